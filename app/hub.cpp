// k8s-watch-server hub: the records many servers export to Kafka, one store
// per cluster, answered over the same API as a server's.
#include "actors/hub_supervisor.hpp"
#include "actors/register.hpp"
#include "actors/scheduler.hpp"
#include "app/kafka_export.hpp"
#include "app/logging.hpp"
#include "app/mcp_hosts.hpp"
#include "app/options.hpp"
#include "app/service_loop.hpp"
#include "config/load.hpp"
#include "storage/kafka_consumer.hpp"
#include "storage/rocks_options.hpp"
#include "storage/rocks_store.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"
#include "util/process_files.hpp"
#include "util/process_memory.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <chrono>
#include <map>
#include <memory>

namespace kws::app {

namespace {

int fail(const std::string& what) {
  KWS_ERROR("{}", what);
  return 1;
}

/// What a server's configuration may hold that a hub cannot honour: a bad
/// setting stops startup with its key.
caf::error check_hub_settings(const config::settings& s) {
  if (s.hub.kafka.brokers.empty())
    return caf::make_error(ec::config_error,
                           "hub.kafka.brokers: needed: the brokers the "
                           "servers export to");
  if (s.hub.clusters.empty())
    return caf::make_error(ec::config_error,
                           "hub.clusters: needed: the clusters this hub "
                           "answers for (their export.kafka.cluster)");
  if (s.auth.mode != config::auth_mode::none)
    return caf::make_error(ec::config_error,
                           "auth.mode: a hub has no cluster to review "
                           "tokens with; use none behind an authenticating "
                           "proxy");
  return {};
}

} // namespace

int run_hub(const options& opts) {
  process_memory::limit_arenas(process_memory::service_arenas);
  auto signals = block_shutdown_signals();
  if (opts.verbose)
    spdlog::set_level(spdlog::level::debug);
  auto settings = config::load(opts.config_path, config::process_env());
  if (!settings)
    return fail("invalid configuration: " + error_detail(settings.error()));
  if (auto err = config::apply_hub_flags(*settings, opts.hub))
    return fail("invalid configuration: " + error_detail(err));
  use_log_format(settings->log_format);
  KWS_INFO("k8s-watch-server {} hub using configuration from {}", KWS_VERSION,
           settings->source);
  if (auto err = check_hub_settings(*settings))
    return fail("invalid configuration: " + error_detail(err));
  auto tls = load_tls(*settings);
  if (!tls)
    return fail("invalid configuration: " + error_detail(tls.error()));
  const auto& hub = settings->hub;
  storage::kafka_consumer_options copts;
  copts.brokers = hub.kafka.brokers;
  copts.topic = hub.kafka.topic;
  copts.group = hub.group;
  auto security = kafka_security(hub.kafka, "hub.kafka");
  if (!security)
    return fail("invalid configuration: " + error_detail(security.error()));
  copts.properties = std::move(*security);
  auto consumer = storage::kafka_consumer::make(std::move(copts));
  if (!consumer)
    return fail("invalid configuration: " + error_detail(consumer.error()));
  auto shared_consumer
    = std::make_shared<storage::kafka_consumer>(std::move(*consumer));
  std::map<std::string, std::shared_ptr<storage::rocks_store>> stores;
  // One store per cluster: they share the table files RocksDB may keep
  // open, so that together they stay within the process's limit.
  const auto budget
    = storage::open_files_budget(process_files::raise_soft_limit());
  for (const auto& cluster : hub.clusters) {
    storage::store_options store_opts;
    store_opts.path = settings->storage_path + "/" + cluster;
    store_opts.read_threads = settings->read_threads;
    if (budget > 0)
      store_opts.open_files = budget / static_cast<int>(hub.clusters.size());
    auto store = storage::rocks_store::open(store_opts);
    if (!store)
      return fail("cannot open the store of cluster " + cluster + " at "
                  + store_opts.path + ": " + render(store.error()));
    stores.emplace(cluster,
                   std::make_shared<storage::rocks_store>(std::move(*store)));
  }
  hub_supervisor_config hcfg;
  hcfg.ingest.topic = hub.kafka.topic;
  hcfg.ingest.batch_size = settings->batch_size;
  hcfg.ingest.retention_days = settings->retention_days;
  hcfg.ingest.now = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
  };
  hcfg.http.max_query_limit = settings->max_query_limit;
  hcfg.http.backup_root = settings->backup_root;
  hcfg.http.mcp.version = KWS_VERSION;
  hcfg.http.mcp.allowed_hosts = service_host_names();
  hcfg.http.mcp.allowed_origins = allowed_origins();
  hcfg.query_workers = settings->query_workers;
  auto& partitions = metrics::get_gauge(
    "kws_hub_partitions",
    "Partitions of the topic this hub reads now: its consumer group's share.");
  auto poll = [shared_consumer, &partitions](size_t max,
                                             std::chrono::milliseconds wait) {
    auto polled = shared_consumer->poll(max, wait);
    partitions.set(static_cast<int64_t>(shared_consumer->partitions()));
    return polled;
  };
  auto commit
    = [shared_consumer](const std::vector<storage::kafka_received>& handled) {
        return shared_consumer->commit(handled);
      };
  int exit_code = 0;
  {
    caf::actor_system_config cfg;
    add_actor_types(cfg);
    tune_scheduler(cfg);
    // Before the actor system, as in a server (main.cpp).
    http_servers servers;
    caf::actor_system sys{cfg};
    auto sup = sys.spawn(hub_supervisor, hcfg, stores, poll, commit);
    exit_code
      = serve_until_signal(sys, servers, sup, *settings, *tls, opts, signals);
  }
  return exit_code;
}

} // namespace kws::app
