// What part of an object an update touched: its desired state (spec), its
// observed state (status) or only metadata. Lets history queries skip the
// status churn controllers write every few seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws::storage {

/// The class of a change. `event` is for Kubernetes Event objects, whose
/// every change is an event; the numbers are stored, never reorder them.
enum class change_class : uint8_t {
  unknown = 0,
  spec = 1,
  status = 2,
  meta = 3,
  none = 4,
  event = 5
};

/// "spec", "status", "meta", "none", "event"; unknown → "".
std::string_view to_string(change_class c);

/// The inverse of to_string for the 5 names (never `unknown`).
std::optional<change_class> parse_change_class(std::string_view s);

/// True for bookkeeping paths: /metadata/resourceVersion,
/// /metadata/generation, anything under /metadata/managedFields, and any
/// path under /status whose last token is "observedGeneration" (e.g.
/// /status/observedGeneration, /status/conditions/0/observedGeneration).
bool is_bookkeeping(std::string_view path);

/// Class of an update from its changed paths:
///  spec   if any non-bookkeeping path lies outside /status and /metadata,
///         or under /metadata/labels, /metadata/annotations,
///         /metadata/ownerReferences, /metadata/finalizers,
///         /metadata/deletionTimestamp;
///  meta   else if any non-bookkeeping path lies under /metadata;
///  status else if any non-bookkeeping path lies under /status;
///  none   otherwise (nothing or only bookkeeping).
change_class classify_update(const std::vector<std::string>& changed_paths);

} // namespace kws::storage
