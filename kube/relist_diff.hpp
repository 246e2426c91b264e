// The relist diff: what changed between the objects a watcher knows and a
// fresh list (client-go's DeltaFIFO.Replace, with uid changes split).
#pragma once

#include "messages/watch.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace kws::kube {

/// Result of `diff_relist`. Apply `deletes` before `creates`: a key whose
/// uid changed appears in both (deleted and re-created while away).
struct relist_diff {
  /// Indexes into `list_result::items` of objects that are new (unknown key,
  /// or a known key with a new uid).
  std::vector<size_t> creates;
  /// Indexes into `list_result::items` of known objects (same uid) whose
  /// resourceVersion changed.
  std::vector<size_t> updates;
  /// Known objects that vanished or were replaced by a new uid; their final
  /// state is unknown.
  std::vector<live_object> deletes;
  /// Indexes of items whose metadata could not be read (no name, bad JSON);
  /// they are in none of the other lists.
  std::vector<size_t> malformed;
  /// Number of listed objects that are unchanged.
  size_t num_unchanged = 0;
};

/// Diffs the known objects (key → uid, resourceVersion) against a fresh list.
/// Parses every item's metadata; duplicate keys in `known` keep the first.
relist_diff diff_relist(const std::vector<live_object>& known,
                        const list_result& fresh);

} // namespace kws::kube
