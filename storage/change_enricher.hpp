// What STORAGE adds to a record at ingest, once it knows the version before
// it: the changed paths, the change class, who changed what, and a message
// that says it. Pure: the store hands in the previous version.
#pragma once

#include "messages/resource_event.hpp"
#include "storage/change_class.hpp"

#include <string>
#include <string_view>

namespace kws::storage {

/// The previous stored version of the same object (same uid).
struct previous_version {
  /// Its `objectChanges` JSON.
  std::string_view object;
};

/// What `enrich_record` found out.
struct change_facts {
  change_class cls = change_class::unknown;
};

/// At most this many `changedPaths` per record; more sets
/// `changedPathsTruncated`.
inline constexpr size_t max_changed_paths = 1000;

/// Rewrites the record of `ev`: an update with a previous version gets
/// `changeClass`, `changedPaths`, `managers` and `fieldManagers` (the
/// manager owning each changed path) before `objectChanges`, and a message
/// naming what changed; an update without one (its predecessor expired or
/// was stored before diffs) stays as it is. Creates and deletes get
/// `changeClass` `spec` (a create's message also names containers already
/// failing), Event objects `event`.
/// @param record `ev.record` or a copy of it, rewritten in place.
change_facts enrich_record(const resource_event& ev, std::string& record,
                           const previous_version* prev);

/// The `objectChanges` JSON of a stored or built record ("" if none).
std::string_view record_object(std::string_view record);

} // namespace kws::storage
