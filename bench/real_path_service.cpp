// The actors are the service's own, spawned as actors/supervisor.cpp and
// actors/discovery.cpp do: STORAGE detached over the store, the WATCHER of
// pods with the real client and STORAGE as its sink. Durability is read from
// the store itself: the watcher's checkpoint is written in the same
// WriteBatch as the records it covers, and one stream is delivered in order,
// so a checkpoint at resourceVersion R means every event up to R is durable.
#include "bench/real_path_service.hpp"

#include "actors/exporter.hpp"
#include "actors/interfaces.hpp"
#include "actors/register.hpp"
#include "actors/scheduler.hpp"
#include "actors/storage.hpp"
#include "actors/watcher.hpp"
#include "bench/pod_stream.hpp"
#include "bench/process_stats.hpp"
#include "kube/client.hpp"
#include "kube/client_lister_watcher.hpp"
#include "storage/kafka_producer.hpp"
#include "storage/rocks_store.hpp"
#include "util/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <rapidjson/document.h>
#include <sys/resource.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_map>

namespace kws::bench {

namespace {

/// A stand-in for DISCOVERY, which the benchmark does not run (it would
/// discover the API and spawn the same watcher): it takes the watcher's
/// status reports and answers readiness, and ignores its internal messages.
struct standin_discovery_state {
  explicit standin_discovery_state(discovery_actor::pointer self)
      : self{self} {}

  discovery_actor::pointer self;
  readiness view;

  static inline const char* name = "discovery";
};

static_assert(!std::is_aggregate_v<standin_discovery_state>);

discovery_actor::behavior_type standin_discovery(
  discovery_actor::stateful_pointer<standin_discovery_state> self) {
  return {
    [self](atom::status) { return self->state.view; },
    [](atom::resolve, const std::string& x) -> caf::result<resource_type> {
      return caf::make_error(ec::not_found, "no discovery in the bench: " + x);
    },
    [](atom::add, catalog_sink_actor&) {},
    [self](watcher_status& status) {
      auto& view = self->state.view;
      view.watchers = {std::move(status)};
      view.ready = view.watchers.front().synced;
    },
    [](watch_settings&) { return atom::ok_v; },
    [](atom::internal, std::vector<api_resource>&) {},
    [](atom::internal, reflector_input&) {},
    [](atom::internal, atom::failed, caf::error&) {},
    [](atom::internal, atom::tick, uint64_t) {},
    [](atom::internal, atom::start, std::string&) {},
  };
}

double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/// The service's metrics this benchmark reads, from the text `/metrics`
/// serves.
struct metric_snapshot {
  uint64_t records = 0;
  uint64_t batches = 0;
  histogram_counts delivery;
};

metric_snapshot read_metrics() {
  metric_snapshot result;
  std::istringstream in{metrics::render_prometheus()};
  std::string line;
  const std::string bucket = "kws_watch_delivery_seconds_bucket{";
  // Without labels the count line has no braces.
  const std::string count = "kws_watch_delivery_seconds_count";
  auto value = [&] { return std::stoull(line.substr(line.rfind(' ') + 1)); };
  while (std::getline(in, line)) {
    if (line.rfind("kws_storage_records_total ", 0) == 0) {
      result.records = value();
    } else if (line.rfind("kws_storage_batches_total ", 0) == 0) {
      result.batches = value();
    } else if (line.find("resource=") != std::string::npos
               && line.find("resource=\"pods\"") == std::string::npos) {
      continue; // another type's series (the only one here is pods)
    } else if (line.rfind(bucket, 0) == 0) {
      auto le = line.find("le=\"");
      auto bound = line.substr(le + 4, line.find('"', le + 4) - le - 4);
      result.delivery.buckets.emplace_back(
        bound == "+Inf" ? 1e300 : std::stod(bound), value());
      result.delivery.found = true;
    } else if (line.rfind(count, 0) == 0) {
      result.delivery.count = value();
    }
  }
  return result;
}

histogram_counts minus(histogram_counts after, const histogram_counts& before) {
  for (size_t i = 0; i < after.buckets.size() && i < before.buckets.size(); ++i)
    after.buckets[i].second -= before.buckets[i].second;
  after.count -= before.count;
  return after;
}

/// Counts the store's records of pods per resourceVersion, through the
/// same query path the REST API uses.
void count_stored(storage::rocks_store& store, const service_phase& phase,
                  service_result& res) {
  auto list_rv = list_rv_for(phase.list_pods);
  res.stored.assign(phase.events, 0);
  event_query q;
  q.resource = "pods";
  q.limit = 1000;
  for (;;) {
    auto page = store.query(q);
    if (!page)
      throw std::runtime_error("query failed: " + to_string(page.error()));
    for (auto& rec : page->records) {
      rapidjson::Document doc;
      doc.Parse(rec.data(), rec.size());
      auto rv_member
        = doc.IsObject() ? doc.FindMember("resourceVersion") : doc.MemberEnd();
      uint64_t rv = 0;
      if (doc.IsObject() && rv_member != doc.MemberEnd()
          && rv_member->value.IsString())
        rv = std::strtoull(rv_member->value.GetString(), nullptr, 10);
      if (rv > list_rv && rv - list_rv <= phase.events)
        ++res.stored[rv - list_rv - 1];
      else if (rv > list_rv - phase.list_pods && rv <= list_rv)
        ++res.list_items_stored;
      else
        ++res.unexpected;
    }
    if (!page->has_more)
      break;
    q.continue_token = page->continue_token;
  }
}

std::string cursor_name(const service_phase& phase) {
  return "kafka/" + phase.kafka_topic;
}

/// Records stored and not yet acknowledged by Kafka; notes the largest.
uint64_t sample_export_lag(const storage::rocks_store& store,
                           const service_phase& phase, service_result& res) {
  auto stored = store.next_sequence() - 1;
  auto read = store.export_cursor(cursor_name(phase));
  auto cursor = read ? *read : 0;
  auto lag = stored > cursor ? stored - cursor : 0;
  res.export_lag_max = std::max(res.export_lag_max, lag);
  return lag;
}

/// Waits up to the drain time for Kafka to acknowledge every stored record.
void await_exported(const storage::rocks_store& store,
                    const service_phase& phase, service_result& res) {
  auto until
    = monotonic_ns() + std::chrono::nanoseconds{phase.drain_time}.count();
  while (monotonic_ns() < until) {
    if (sample_export_lag(store, phase, res) == 0) {
      res.export_done_ns = monotonic_ns();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  if (auto cursor = store.export_cursor(cursor_name(phase)))
    res.exported = *cursor;
}

/// Polls the checkpoint until every event is durable, or the limit and
/// then the drain are over.
void await_durable(const storage::rocks_store& store,
                   const service_phase& phase, service_result& res) {
  auto list_rv = list_rv_for(phase.list_pods);
  res.durable_ns.assign(phase.events, 0);
  uint64_t durable = 0;
  int64_t stopped_at = 0;
  auto limit_ns = std::chrono::nanoseconds{phase.max_time}.count();
  auto drain_ns = std::chrono::nanoseconds{phase.drain_time}.count();
  int64_t next_lag_sample = 0;
  for (;;) {
    if (!phase.kafka.empty() && monotonic_ns() >= next_lag_sample) {
      sample_export_lag(store, phase, res);
      next_lag_sample = monotonic_ns() + 100'000'000;
    }
    auto cp = store.checkpoint("pods");
    auto now = monotonic_ns();
    if (cp && !cp->resource_version.empty()) {
      auto rv = std::strtoull(cp->resource_version.c_str(), nullptr, 10);
      if (res.list_durable_ns == 0 && rv >= list_rv)
        res.list_durable_ns = now;
      if (rv > list_rv)
        for (auto upto = std::min<uint64_t>(rv - list_rv, phase.events);
             durable < upto; ++durable)
          res.durable_ns[durable] = now;
    }
    if (durable == phase.events)
      break;
    if (stopped_at == 0 && now - res.start_ns > limit_ns) {
      res.timed_out = true;
      phase.stop_sending();
      stopped_at = now;
    }
    if (stopped_at != 0) {
      // A write under way when the apiserver was told to stop may still
      // complete: give it a moment before trusting the written count.
      auto written = phase.stamps->head().sent.load();
      if ((durable >= written && now - stopped_at > 200'000'000)
          || now - stopped_at > drain_ns)
        break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds{500});
  }
  res.end_ns = monotonic_ns();
}

} // namespace

service_result run_service(const service_phase& phase) {
  service_result res;
  reset_peak_rss();
  auto metrics_before = read_metrics();
  auto cpu_before = process_cpu_s();
  res.start_ns = monotonic_ns();
  kube::cluster_config cluster;
  cluster.server = phase.server;
  cluster.ca_pem = phase.ca_pem;
  cluster.source = "the benchmark's apiserver";
  auto client = kube::client::make(std::move(cluster));
  if (!client)
    throw std::runtime_error("cannot create the client: "
                             + to_string(client.error()));
  storage::store_options sopts;
  sopts.path = phase.store_dir;
  auto opened = storage::rocks_store::open(sopts);
  if (!opened)
    throw std::runtime_error("cannot open the store: "
                             + to_string(opened.error()));
  auto store = std::make_shared<storage::rocks_store>(std::move(*opened));
  {
    caf::actor_system_config cfg;
    add_actor_types(cfg);
    tune_scheduler(cfg);
    caf::actor_system sys{cfg};
    // The service's defaults (config/settings.hpp): batch 1000, 200 ms.
    storage_config scfg;
    auto storage = sys.spawn<caf::detached>(storage_writer, scfg, store);
    auto discovery = sys.spawn(standin_discovery);
    watcher_config wcfg;
    wcfg.type = resource_type{"", "v1", "Pod", "pods", true};
    wcfg.reflector.seed = std::hash<std::string>{}(wcfg.type.group_resource());
    auto source = kube::make_client_lister_watcher(*client, wcfg.type, {});
    auto watcher = sys.spawn(kws::watcher, wcfg, source,
                             caf::actor_cast<ingest_sink_actor>(storage),
                             storage, discovery);
    exporter_actor exporter;
    if (!phase.kafka.empty()) {
      storage::kafka_producer_options kopts;
      kopts.brokers = {phase.kafka};
      kopts.topic = phase.kafka_topic;
      auto producer = storage::kafka_producer::make(kopts);
      if (!producer)
        throw std::runtime_error("cannot make the Kafka producer: "
                                 + to_string(producer.error()));
      auto shared
        = std::make_shared<storage::kafka_producer>(std::move(*producer));
      exporter_config ecfg;
      ecfg.cluster = "bench";
      ecfg.cursor_name = cursor_name(phase);
      exporter = sys.spawn<caf::detached>(
        kws::exporter, ecfg, store,
        [shared](const std::vector<storage::kafka_message>& batch) {
          return shared->send(batch);
        });
    }
    await_durable(*store, phase, res);
    if (exporter) {
      await_exported(*store, phase, res);
      res.export_failures = static_cast<uint64_t>(
        metrics::get_counter("kws_export_failures_total", "").value());
    }
    caf::scoped_actor self{sys};
    if (exporter) {
      self->send_exit(exporter, caf::exit_reason::user_shutdown);
      self->wait_for(exporter);
    }
    self->request(discovery, std::chrono::seconds{5}, atom::status_v)
      .receive(
        [&](readiness& r) {
          if (!r.watchers.empty()) {
            res.watch_restarts = r.watchers.front().restarts;
            res.last_error = r.watchers.front().last_error;
          }
        },
        [](caf::error&) {});
    // The supervisor's shutdown: watchers first, then a final flush.
    self->send_exit(watcher, caf::exit_reason::user_shutdown);
    self->wait_for(watcher);
    self->request(storage, std::chrono::seconds{10}, atom::flush_v)
      .receive([](uint64_t) {}, [](caf::error&) {});
    self->send_exit(storage, caf::exit_reason::user_shutdown);
    self->send_exit(discovery, caf::exit_reason::user_shutdown);
    self->wait_for(storage, discovery);
  }
  // As in app/main.cpp: the client stops once the actors are gone.
  client->get()->stop();
  res.cpu_s = process_cpu_s() - cpu_before;
  res.peak_rss_kib = peak_rss_kib();
  auto metrics_after = read_metrics();
  res.storage_records = metrics_after.records - metrics_before.records;
  res.storage_batches = metrics_after.batches - metrics_before.batches;
  res.delivery = minus(metrics_after.delivery, metrics_before.delivery);
  count_stored(*store, phase, res);
  return res;
}

} // namespace kws::bench
