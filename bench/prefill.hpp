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

/// Writes `opt.prefill` events of `w` straight into the store with the
/// service's own pure steps (scan, build, link Events, write) on this thread
/// and no actors: a store of millions of records in minutes. Returns the
/// records stored.
uint64_t prefill(const options& opt, bench::workload& w,
                 storage::rocks_store& store, std::atomic<int64_t>& fake_now);

/// Runs `prefill` when `opt.prefill` asks for one and reports it.
void prefill_phase(const options& opt, workload& w, storage::rocks_store& store,
                   std::atomic<int64_t>& fake_now, json_out& js);

} // namespace kws::bench
