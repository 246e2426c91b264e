// Queries while the store ingests: a user asks during an incident, when the
// cluster is busiest, never of an idle store. The pipeline replays events at
// a steady rate while one thread asks the store for object histories,
// filtered pages and the last hour's change summary, then wrk asks the real
// HTTP server (in this process, over the same store) for `limit=10` pages.
#pragma once

#include "bench/bench_options.hpp"
#include "bench/json_out.hpp"
#include "bench/workload.hpp"
#include "storage/rocks_store.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace kws::bench {

/// Replays `opt.during_seconds` worth of events of `w` at
/// `opt.during_rate` events/s into `store` and measures the queries; writes
/// the `*_during_ingest` keys. Returns the phase's peak RSS in KiB (0 when
/// `opt.during_seconds` is 0).
long measure_during_ingest(const options& opt, workload& w,
                           const std::shared_ptr<storage::rocks_store>& store,
                           std::atomic<int64_t>& fake_now,
                           const std::filesystem::path& stream_dir,
                           json_out& js);

} // namespace kws::bench
