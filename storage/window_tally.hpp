// How many records of each object a window holds, by verb and change
// class, and the Kubernetes Events about each: what `/changes` ranks by.
// Each partition the window touches is counted the cheapest way that is
// exact for it (see `tally_window`). Internal to the store.
#pragma once

#include "messages/change_query.hpp"
#include "storage/store_window.hpp"

#include <vector>

namespace kws::storage::window {

/// What changed of one object in the window.
struct object_changes {
  object_key key;
  size_t creates = 0;
  size_t updates = 0;
  size_t deletes = 0;
  /// Bits `1 << change_class` of its records.
  uint8_t classes = 0;
  /// Where its newest record in the window is.
  position last;
  size_t warnings = 0;
  size_t normals = 0;

  /// Objects a tally names for their Events alone have no record here.
  bool changed() const { return creates + updates + deletes > 0; }

  bool spec_or_delete() const {
    return deletes > 0
      || (classes & (1u << static_cast<uint8_t>(change_class::spec))) != 0;
  }
};

/// Every object with a record up to `max_seq` in the window matching `q`,
/// with the Events about it, partition by partition: a partition wholly
/// inside the window from its per-object tallies (`change_tally.hpp`),
/// each object a later record touched from its own entries; another from
/// its object and link index entries, or, when the window holds less of
/// its records than that walk would read, from its records in time order.
caf::error tally_window(const read_view& view, const window_query& q,
                        uint64_t max_seq, std::vector<object_changes>& out);

} // namespace kws::storage::window
