// Phase 1 of kws_bench: ingest through the service's own pipeline
// (splitter, scanner, WATCHER-like actors, CORRELATOR, STORAGE) and report
// it, with the store left at rest for the phases after it.
#pragma once

#include "bench/bench_options.hpp"
#include "bench/json_out.hpp"
#include "bench/resource_use.hpp"
#include "bench/workload.hpp"
#include "storage/rocks_store.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace kws::bench {

/// What generating the workload costs on the producing thread; subtracted
/// from wall time so both ingest figures measure only the system under test.
struct gen_stats {
  uint64_t bytes = 0;
  double seconds = 0;
  uint64_t count[num_kinds] = {};
  uint64_t kind_bytes[num_kinds] = {};
};

struct ingest_result {
  double wall_s = 0;
  double gen_s = 0;
  double net_s = 0;
  /// CPU of the io thread: reading the streams, splitting and scanning.
  double io_s = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;
  uint64_t stored = 0;
  uint64_t malformed = 0;
  uint64_t batches = 0;
  /// CPU seconds of all threads during the measured ingest.
  double cpu_s = 0;
  /// Memory when the measured ingest starts (what the peak starts from) and
  /// when it ends, before the actors are gone.
  memory_split start;
  memory_split end;
};

/// Generates the traffic into files under `stream_dir`, then feeds it
/// through the pipeline into `store` as real watchers would.
ingest_result run_pipeline(const options& opt, workload& w,
                           std::shared_ptr<storage::rocks_store> store,
                           std::atomic<int64_t>& fake_now, gen_stats& gs,
                           const std::filesystem::path& stream_dir);

/// Waits (at most an hour) until `store` compacts no more and reports how
/// long that took.
void settle_compactions(storage::rocks_store& store, json_out& js);

/// Reports the ingest, the store's size on disk and the memory it took;
/// returns the ingest rate in events per second.
double report_ingest(const ingest_result& ing, const gen_stats& gs,
                     const dir_size& disk, long rss_ingest, json_out& js);

} // namespace kws::bench
