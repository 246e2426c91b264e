// Queries the index answers, and their results.
#pragma once

#include "messages/access.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace kws {

/// Smallest and largest timestamps; the defaults of an unbounded range.
constexpr int64_t min_time_ns = std::numeric_limits<int64_t>::min();
constexpr int64_t max_time_ns = std::numeric_limits<int64_t>::max();

/// A validated `GET /api/v1/events` query. Empty strings mean "any".
struct event_query {
  /// Inclusive time bounds in nanoseconds since the epoch.
  int64_t start_ns = min_time_ns;
  int64_t end_ns = max_time_ns;
  std::string ns;
  /// Plural resource name, already resolved from whatever form the client
  /// used; `group` narrows it when the client named one.
  std::string resource;
  std::string group;
  std::string name;
  /// "create", "update" or "delete".
  std::string verb;
  std::string user;
  std::string uid;
  /// Bit `1 << c` for each accepted `storage::change_class` c; 0 = any.
  uint8_t change_classes = 0;
  /// JSON Pointer prefix: only updates that changed something under it.
  std::string path;
  /// At least 1, at most the configured maximum.
  uint32_t limit = 1000;
  bool descending = false;
  /// Opaque position from a previous page's `X-Continue`; "" for page one.
  std::string continue_token;
  /// `view=summary`: records without their snapshot (rest/record_summary).
  bool summary = false;
  /// What the caller may read; applied before the limit, so pages stay
  /// full and continue tokens exact.
  access_filter access = {};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_query& x) {
  return f(caf::meta::type_name("kws.event_query"), x.start_ns, x.end_ns, x.ns,
           x.resource, x.group, x.name, x.verb, x.user, x.uid, x.change_classes,
           x.path, x.limit, x.descending, x.continue_token, x.summary,
           x.access);
}

/// One page of event records.
struct event_page {
  /// Response-ready JSON objects, in the requested order.
  std::vector<std::string> records;
  bool has_more = false;
  /// Token for the next page when `has_more`.
  std::string continue_token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_page& x) {
  return f(caf::meta::type_name("kws.event_page"), x.records, x.has_more,
           x.continue_token);
}

/// A validated object-history query (`/api/v1/events/{ns}/{type}/{name}`).
struct history_query {
  /// "" for cluster-scoped objects (`_cluster` in the path).
  std::string ns;
  std::string resource;
  std::string group;
  std::string name;
  int64_t start_ns = min_time_ns;
  int64_t end_ns = max_time_ns;
  uint32_t limit = 1000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_query& x) {
  return f(caf::meta::type_name("kws.history_query"), x.ns, x.resource, x.group,
           x.name, x.start_ns, x.end_ns, x.limit);
}

/// The history of one object by name.
struct object_history {
  /// False when the object was never seen (the REST layer answers 404).
  bool found = false;
  /// Records of the object itself, every version and uid, by time.
  std::vector<std::string> watch_events;
  /// Records of Kubernetes Events about the object, by time.
  std::vector<std::string> related_events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, object_history& x) {
  return f(caf::meta::type_name("kws.object_history"), x.found, x.watch_events,
           x.related_events);
}

} // namespace kws
