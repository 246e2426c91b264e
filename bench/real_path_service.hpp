// The service side of the real-path benchmark: the Kubernetes client, the
// WATCHER of pods (with its reflector) and STORAGE over a fresh RocksDB
// store, spawned as the service spawns them, run against the benchmark's
// apiserver until every event is durable or the time is up; then what the
// store holds is counted.
#pragma once

#include "bench/stamps.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kws::bench {

/// One phase of the service against a running apiserver.
struct service_phase {
  /// "https://127.0.0.1:PORT".
  std::string server;
  /// The apiserver's self-signed certificate, trusted as the CA.
  std::string ca_pem;
  /// Directory of the fresh store.
  std::string store_dir;
  uint64_t list_pods = 0;
  uint64_t events = 0;
  /// Limit of the phase from the start of the actors.
  std::chrono::milliseconds max_time{60'000};
  /// After the limit, how long to wait for what was written to be durable.
  std::chrono::milliseconds drain_time{10'000};
  /// The apiserver's stamps (read live: how many events it wrote).
  stamp_file* stamps = nullptr;
  /// Tells the apiserver to write no further events.
  std::function<void()> stop_sending;
  /// `host:port` of a Kafka broker: the EXPORTER runs too and sends every
  /// record to `kafka_topic` (empty: no export).
  std::string kafka;
  std::string kafka_topic = "kws-bench";
};

/// A distribution's bucket counts, as the service exports it.
struct histogram_counts {
  /// (upper bound in seconds, cumulative count); +Inf last.
  std::vector<std::pair<double, uint64_t>> buckets;
  uint64_t count = 0;
  bool found = false;
};

/// What the phase observed.
struct service_result {
  /// Per event: when its checkpoint was first seen durable (monotonic ns),
  /// 0 if never.
  std::vector<int64_t> durable_ns;
  int64_t start_ns = 0;
  /// When the list's records were durable (0 = never).
  int64_t list_durable_ns = 0;
  /// When the measuring loop ended.
  int64_t end_ns = 0;
  /// The time limit was reached before every event was durable.
  bool timed_out = false;
  /// Per event: how many records of its resourceVersion the store holds.
  std::vector<uint32_t> stored;
  uint64_t list_items_stored = 0;
  /// Records whose resourceVersion the apiserver never sent.
  uint64_t unexpected = 0;
  /// CPU seconds of this process during the phase.
  double cpu_s = 0;
  /// Peak RSS of this process during the phase (VmHWM, reset at its start).
  long peak_rss_kib = 0;
  /// Deltas over the phase of the service's metrics.
  uint64_t storage_records = 0;
  uint64_t storage_batches = 0;
  histogram_counts delivery;
  /// The watcher's own account at the end.
  uint64_t watch_restarts = 0;
  std::string last_error;
  /// With `kafka`: records Kafka acknowledged, the most records stored and
  /// not yet acknowledged at any sample (every 100 ms), and when the last
  /// record was acknowledged (monotonic ns; 0 = not within the drain time).
  uint64_t exported = 0;
  uint64_t export_lag_max = 0;
  int64_t export_done_ns = 0;
  uint64_t export_failures = 0;
};

/// Runs the phase. Throws `std::runtime_error` when the store or client
/// cannot be made.
service_result run_service(const service_phase& phase);

} // namespace kws::bench
