// Phase 0 of kws_bench (optional): a large store written without actors
// before the measured ingest, so ingest, memory and queries run against a
// store of `prefill + events` records.
#pragma once

#include "bench/bench_options.hpp"
#include "bench/json_out.hpp"
#include "bench/workload.hpp"
#include "storage/rocks_store.hpp"

#include <atomic>
#include <cstdint>

namespace kws::bench {

/// What writing straight into a store took; generating the events is
/// timed apart, so that it can be taken out.
struct direct_write {
  uint64_t stored = 0;
  double wall_s = 0;
  /// CPU seconds of all threads, RocksDB's included.
  double cpu_s = 0;
  /// Wall and CPU seconds spent generating the events.
  double gen_wall_s = 0;
  double gen_cpu_s = 0;
};

/// Writes `count` events of `w` straight into the store with the service's
/// own pure steps (scan, build, link Events, write) on this thread and no
/// actors, in batches of `opt.storage_batch` per kind: what the pipeline
/// writes, without its actors, threads and hand-offs.
direct_write write_directly(const options& opt, bench::workload& w,
                            storage::rocks_store& store,
                            std::atomic<int64_t>& fake_now, uint64_t count);

/// Runs `prefill` when `opt.prefill` asks for one and reports it.
void prefill_phase(const options& opt, workload& w, storage::rocks_store& store,
                   std::atomic<int64_t>& fake_now, json_out& js);

} // namespace kws::bench
