#include "storage/change_class.hpp"

#include "storage/json_diff.hpp"

#include <algorithm>
#include <array>

namespace kws::storage {

namespace {

// Metadata a user or controller sets on purpose: it changes behaviour
// (selectors, garbage collection, deletion), so it counts as spec.
constexpr std::array<std::string_view, 5> spec_metadata{
  "/metadata/labels", "/metadata/annotations", "/metadata/ownerReferences",
  "/metadata/finalizers", "/metadata/deletionTimestamp"};

constexpr std::array<std::pair<change_class, std::string_view>, 5> names{{
  {change_class::spec, "spec"},
  {change_class::status, "status"},
  {change_class::meta, "meta"},
  {change_class::none, "none"},
  {change_class::event, "event"},
}};

bool is_spec(std::string_view path) {
  if (!pointer_has_prefix(path, "/metadata"))
    return !pointer_has_prefix(path, "/status");
  return std::any_of(
    spec_metadata.begin(), spec_metadata.end(),
    [&](std::string_view p) { return pointer_has_prefix(path, p); });
}

} // namespace

std::string_view to_string(change_class c) {
  for (const auto& [k, name] : names)
    if (k == c)
      return name;
  return "";
}

std::optional<change_class> parse_change_class(std::string_view s) {
  for (const auto& [k, name] : names)
    if (name == s)
      return k;
  return std::nullopt;
}

bool is_bookkeeping(std::string_view path) {
  if (path == "/metadata/resourceVersion" || path == "/metadata/generation"
      || pointer_has_prefix(path, "/metadata/managedFields"))
    return true;
  // The last token needs no unescaping: "observedGeneration" has no ~ or /.
  return pointer_has_prefix(path, "/status")
    && path.substr(path.rfind('/') + 1) == "observedGeneration";
}

change_class classify_update(const std::vector<std::string>& changed_paths) {
  bool meta = false;
  bool status = false;
  for (const auto& path : changed_paths) {
    if (is_bookkeeping(path))
      continue;
    if (is_spec(path))
      return change_class::spec;
    if (pointer_has_prefix(path, "/metadata"))
      meta = true;
    else
      status = true;
  }
  if (meta)
    return change_class::meta;
  return status ? change_class::status : change_class::none;
}

} // namespace kws::storage
