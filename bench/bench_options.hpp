// What one kws_bench run measures and at which size: the command line,
// and the generated time line every phase shares.
#pragma once

#include "storage/rocks_store.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace kws::bench {

constexpr int64_t day_ns = int64_t{86'400} * 1'000'000'000;
/// 2026-01-01T00:00:00Z: where generated time starts (a day boundary).
constexpr int64_t start_ns = int64_t{1'767'225'600} * 1'000'000'000;

struct options {
  uint64_t events = 20'000;
  uint64_t seed = 1;
  std::string out;
  std::string dir;
  unsigned days = 4;
  unsigned queries = 300;
  /// Events per slice of a generated stream: its time stamp moves the
  /// generated clock forward when the slice is read.
  size_t watcher_batch = 250;
  size_t storage_batch = 1000;
  bool keep = false;
  /// Captured objects the generator copies (bench/templates/).
  std::string templates = KWS_BENCH_TEMPLATES;
  /// Live objects the workload settles around.
  size_t live_objects = 9000;
  /// Events written straight into the store before the measured ingest, so
  /// that ingest, memory and queries run against a store of
  /// `prefill + events` records.
  uint64_t prefill = 0;
  /// Where RocksDB's statistics go after the measured ingest ("" nowhere).
  std::string rocksdb_stats;
  /// Only measure queries, over the store a run with `--keep` left in
  /// `dir` (same `--events` and `--seed`): to profile queries without
  /// building a large store again.
  bool queries_only = false;
  /// `store_options::read_threads` of the store the queries run on.
  unsigned read_threads = storage::store_options{}.read_threads;
  /// Queries during ingest: how long the paced replay runs (0: not
  /// measured) and how fast.
  unsigned during_seconds = 0;
  double during_rate = 10'000;
  /// wrk, to measure HTTP `limit=10` pages during ingest ("": not measured),
  /// and for how long.
  std::string wrk;
  unsigned wrk_seconds = 10;
};

/// Reads the command line; prints the usage and exits with 2 on anything
/// it does not understand or an impossible size.
options parse_options(int argc, char** argv);

} // namespace kws::bench
