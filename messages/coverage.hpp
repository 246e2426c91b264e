// Intervals in which a resource type's history is incomplete.
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace kws {

/// A stretch of time in which changes of one resource type may be missing
/// from the history: between the last change a watcher read off its stream
/// (or the list or checkpoint it started from) and the relist that replaced
/// the stream (after a 410 Gone, a malformed line or a failed watch). The
/// relist stores each object's state at its end; versions after
/// `from_resource_version` and up to `to_resource_version` may be lost.
struct coverage_gap {
  /// `resource_type::group_resource()`.
  std::string group_resource;
  /// Nanoseconds since the epoch.
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  /// The last resourceVersion read before the gap, and the relist's.
  std::string from_resource_version;
  std::string to_resource_version;
  /// What forced the relist.
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, coverage_gap& x) {
  return f(caf::meta::type_name("kws.coverage_gap"), x.group_resource,
           x.start_ns, x.end_ns, x.from_resource_version, x.to_resource_version,
           x.reason);
}

/// `GET /api/v1/coverage`: the gaps overlapping [start_ns, end_ns].
struct coverage_query {
  int64_t start_ns = std::numeric_limits<int64_t>::min();
  int64_t end_ns = std::numeric_limits<int64_t>::max();
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, coverage_query& x) {
  return f(caf::meta::type_name("kws.coverage_query"), x.start_ns, x.end_ns);
}

/// `X-Coverage-Gaps`: how many gaps of `resource` overlap a window, counted
/// where the gaps are, so that no list of them travels for a number.
struct gap_count_query {
  coverage_query window;
  /// A plural ("pods", every group), "plural.group", or "" for every type.
  std::string resource;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gap_count_query& x) {
  return f(caf::meta::type_name("kws.gap_count_query"), x.window, x.resource);
}

/// True when `gap` is of `resource` as `gap_count_query` names it.
inline bool gap_of(const coverage_gap& gap, std::string_view resource) {
  const auto& gr = gap.group_resource;
  return resource.empty() || gr == resource
    || (gr.size() > resource.size() && gr.starts_with(resource)
        && gr[resource.size()] == '.');
}

} // namespace kws
