// The stored coverage gaps, also kept in memory: every answer of
// `/api/v1/events` and of an object's history counts the gaps of its window
// (`X-Coverage-Gaps`), and reading them off the `meta` family each time
// cost more than the query itself. There are few (one per type and restart
// or relist), they change only when a batch with gaps is written, at start
// and when retention drops a day, and the store's writes keep this in step.
#pragma once

#include "messages/coverage.hpp"

#include <cstdint>
#include <shared_mutex>
#include <string_view>
#include <vector>

namespace kws::storage {

/// Thread-safe; ordered by (start, group_resource, end).
class gap_book {
public:
  /// Adds `gaps`; one equal in start, end and type to a known one replaces
  /// it (the store keeps one key per such gap).
  void add(const std::vector<coverage_gap>& gaps);

  /// Forgets the gaps ending before `ns` (retention dropped their days);
  /// how many.
  size_t forget_ending_before(int64_t ns);

  /// The gaps that end at `start_ns` or later and start at `end_ns` or
  /// earlier, ordered by start, then type.
  std::vector<coverage_gap> overlapping(int64_t start_ns, int64_t end_ns) const;

  /// How many of `overlapping(start_ns, end_ns)` are of `resource`
  /// (`gap_of`), without copying them.
  size_t count(int64_t start_ns, int64_t end_ns,
               std::string_view resource) const;

  size_t size() const;

private:
  mutable std::shared_mutex mtx_;
  std::vector<coverage_gap> gaps_;
};

} // namespace kws::storage
