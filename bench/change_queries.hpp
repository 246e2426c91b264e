// The change summary (`rocks_store::changes`) over a stored workload: what
// "what changed between T1 and T2" costs. Calls the store directly, without
// the HTTP server.
#pragma once

#include "storage/rocks_store.hpp"

#include <cstdint>

namespace kws::bench {

/// Latencies of `GET /api/v1/changes`-equivalent calls, in milliseconds.
struct change_query_times {
  /// One namespace over the window, first page of 100 entries.
  double namespace_p50_ms = 0;
  double namespace_p99_ms = 0;
  /// Every namespace over the window, first page of 100.
  double all_p50_ms = 0;
  double all_p99_ms = 0;
  /// Objects the unfiltered window held, and entries of one page.
  double all_entries = 0;
  /// Calls that failed (should be 0).
  uint64_t failures = 0;
};

/// Runs `queries` namespace-filtered and a fifth as many unfiltered
/// summaries over [start_ns, end_ns]; namespaces as `workload` names them.
change_query_times measure_changes(const storage::rocks_store& store,
                                   uint64_t seed, int64_t start_ns,
                                   int64_t end_ns, unsigned queries);

} // namespace kws::bench
