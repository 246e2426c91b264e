// The two limits the measured ingest is compared with, both over a copy of
// the store exactly as the measured ingest finds it (same records, same
// options) and over the same events:
//
// - the physical limit: a DOM parse of each line and one write of its
//   record, nothing else (what the disk and RocksDB allow);
// - the same-keys limit: the service's pure steps (scan, build, link, write
//   every key the service writes) on one thread without actors (what the
//   service's own work allows).
#pragma once

#include "bench/bench_options.hpp"
#include "bench/json_out.hpp"
#include "bench/workload.hpp"
#include "storage/rocks_store.hpp"

#include <cstdint>
#include <filesystem>

namespace kws::bench {

/// Where the limits write: hard-linked checkpoints of the store.
struct limit_stores {
  std::filesystem::path physical;
  std::filesystem::path same_keys;
  /// The store's next sequence number when the copies were taken.
  uint64_t next_sequence = 1;
};

/// Takes both copies of `store` (flushed first) under `root`.
limit_stores copy_for_limits(storage::rocks_store& store,
                             const std::filesystem::path& root);

/// Writes `opt.events` events of `events` (a copy of the workload as the
/// measured ingest started) into each copy, reports both limits and the
/// ingest's fraction of each (`ingest_ev_s`), and removes the copies.
void measure_limits(const options& opt, const workload& events,
                    const limit_stores& at, double ingest_ev_s, json_out& js);

} // namespace kws::bench
