// k8s-watch-server: load the configuration, open the store, connect to the
// cluster, start the actors, serve HTTP, and shut down cleanly on a signal.
#include "actors/discovery.hpp"
#include "actors/register.hpp"
#include "actors/scheduler.hpp"
#include "actors/supervisor.hpp"
#include "app/kafka_export.hpp"
#include "app/listeners.hpp"
#include "app/logging.hpp"
#include "app/mcp_hosts.hpp"
#include "app/options.hpp"
#include "app/readiness_feed.hpp"
#include "app/reload.hpp"
#include "app/service_loop.hpp"
#include "config/load.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "rest/server.hpp"
#include "rest/ui_bundle.hpp"
#include "storage/rocks_options.hpp"
#include "storage/rocks_store.hpp"
#include "util/logging.hpp"
#include "util/process_files.hpp"
#include "util/process_memory.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <optional>
#include <thread>

namespace {

using namespace kws;

int fail(const std::string& what) {
  KWS_ERROR("{}", what);
  return 1;
}

int serve(const app::options& opts) {
  process_memory::limit_arenas(process_memory::service_arenas);
  auto signals = app::block_shutdown_signals();
  auto settings = config::load(opts.config_path, config::process_env());
  if (!settings)
    return fail("invalid configuration: " + error_detail(settings.error()));
  app::use_log_format(settings->log_format);
  KWS_INFO("k8s-watch-server {} using configuration from {}", KWS_VERSION,
           settings->source);
  auto tls = app::load_tls(*settings);
  if (!tls)
    return fail("invalid configuration: " + error_detail(tls.error()));
  std::optional<app::kafka_export> exported;
  if (settings->kafka_export.enabled()) {
    auto made = app::make_kafka_export(settings->kafka_export);
    if (!made)
      return fail("invalid configuration: " + error_detail(made.error()));
    exported = std::move(*made);
  }
  auto cluster = kube::load_default(opts.kubeconfig);
  if (!cluster)
    return fail("cannot configure the Kubernetes client: "
                + render(cluster.error()));
  auto client = kube::client::make(std::move(*cluster));
  if (!client)
    return fail("cannot create the Kubernetes client: "
                + render(client.error()));
  const auto files = process_files::raise_soft_limit();
  const auto budget = storage::open_files_budget(files);
  if (budget > 0)
    KWS_INFO("the process may open {} files; the store keeps at most {} "
             "table files open",
             files, budget);
  storage::store_options store_opts;
  store_opts.open_files = std::max(budget, 0);
  store_opts.path = settings->storage_path;
  store_opts.read_threads = settings->read_threads;
  store_opts.first_id = storage::first_id_now();
  auto store = storage::rocks_store::open(store_opts);
  if (!store)
    return fail("cannot open the store at " + settings->storage_path + ": "
                + render(store.error()));
  auto shared_store = std::make_shared<storage::rocks_store>(std::move(*store));
  supervisor_config scfg;
  scfg.storage.batch_size = settings->batch_size;
  scfg.storage.retention_days = settings->retention_days;
  scfg.discovery.watch = config::watch_part(*settings);
  auto digest_key = shared_store->secret_digest_key();
  if (!digest_key)
    return fail("cannot read the key of Secret digests: "
                + render(digest_key.error()));
  scfg.discovery.secret_digest_key = std::move(*digest_key);
  if (auto stored = stored_types(*shared_store))
    scfg.discovery.stored = std::move(*stored);
  else
    KWS_WARN("cannot list the resource types in the store, types no longer "
             "served will not resolve by name: {}",
             stored.error());
  scfg.http.max_query_limit = settings->max_query_limit;
  scfg.http.backup_root = settings->backup_root;
  scfg.http.mcp.version = KWS_VERSION;
  scfg.http.mcp.allowed_hosts = app::service_host_names();
  scfg.http.mcp.allowed_origins = app::allowed_origins();
  scfg.query_workers = settings->query_workers;
  if (exported) {
    scfg.exporter = std::move(exported->config);
    scfg.export_to = std::move(exported->send);
  }
  std::shared_ptr<kube::client> access_client;
  if (settings->auth.mode != config::auth_mode::none) {
    // Its own connections: reviews never wait behind the watchers' lists.
    auto made = kube::client::make(client->get()->config());
    if (!made)
      return fail("cannot create the Kubernetes client for access reviews: "
                  + render(made.error()));
    access_client = std::move(*made);
    scfg.access_client = access_client;
    scfg.access.audiences = settings->auth.audiences;
    scfg.access.ttl = std::chrono::seconds{settings->auth.cache_seconds};
    scfg.access.failure_ttl
      = std::chrono::seconds{settings->auth.failure_cache_seconds};
  }
  int exit_code = 0;
  {
    caf::actor_system_config cfg;
    add_actor_types(cfg);
    tune_scheduler(cfg);
    // Before the actor system: its end lets go of the answers actors still
    // hold, and their connections need their server then.
    app::http_servers servers;
    caf::actor_system sys{cfg};
    auto sup = sys.spawn(supervisor, scfg, shared_store, *client);
    exit_code = app::serve_until_signal(sys, servers, sup, *settings, *tls,
                                        opts, signals);
  }
  // Only now: the actor system's end waited for every watcher, whose
  // reflectors' stops still needed the client's io thread to close their
  // streams (stopped earlier, those would keep each other alive).
  client->get()->stop();
  if (access_client)
    access_client->stop();
  return exit_code;
}

} // namespace

int main(int argc, char** argv) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v",
                      spdlog::pattern_time_type::utc);
  auto opts = kws::app::parse_options(argc, argv);
  if (!opts) {
    std::cerr << "k8s-watch-server: " << kws::error_detail(opts.error()) << "\n"
              << kws::app::usage;
    return 2;
  }
  switch (opts->command) {
    case kws::app::mode::help: std::cout << kws::app::usage; return 0;
    case kws::app::mode::version:
      std::cout << "k8s-watch-server " << KWS_VERSION << "\n";
      return 0;
    case kws::app::mode::probe: return kws::app::run_probe(argc, argv);
    case kws::app::mode::backup: return kws::app::run_backup(*opts);
    case kws::app::mode::restore: return kws::app::run_restore(*opts);
    case kws::app::mode::mcp: return kws::app::run_mcp_stdio(*opts);
    case kws::app::mode::hub: return kws::app::run_hub(*opts);
    case kws::app::mode::serve: break;
  }
  if (opts->verbose)
    spdlog::set_level(spdlog::level::debug);
  return serve(*opts);
}
