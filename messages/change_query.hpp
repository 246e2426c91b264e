// Queries about changes (records by id, diffs, blame, snapshots, change
// summaries) and their answer. The answers are response-ready JSON built by
// the store, like event records.
#pragma once

#include "messages/query.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kws {

/// `GET /api/v1/records/{id}`.
struct record_query {
  /// 16 lowercase hex digits, already checked.
  std::string id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_query& x) {
  return f(caf::meta::type_name("kws.record_query"), x.id);
}

/// Names one object, as the history endpoint does.
struct object_ref {
  /// "" for cluster-scoped objects.
  std::string ns;
  std::string resource;
  std::string group;
  std::string name;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, object_ref& x) {
  return f(caf::meta::type_name("kws.object_ref"), x.ns, x.resource, x.group,
           x.name);
}

/// `GET /api/v1/events/{ns}/{type}/{name}/diff`.
struct diff_query {
  object_ref object;
  /// Record ids; either may be "" (see the REST layer).
  std::string from_id;
  std::string to_id;
  /// JSON Pointer prefixes whose operations are left out.
  std::vector<std::string> ignore;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, diff_query& x) {
  return f(caf::meta::type_name("kws.diff_query"), x.object, x.from_id, x.to_id,
           x.ignore);
}

/// `GET /api/v1/events/{ns}/{type}/{name}/blame`.
struct blame_query {
  object_ref object;
  int64_t at_ns = max_time_ns;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, blame_query& x) {
  return f(caf::meta::type_name("kws.blame_query"), x.object, x.at_ns);
}

/// `GET /api/v1/snapshot` and `GET /api/v1/changes`: a window (a snapshot
/// reads `end_ns` only, the moment), filters and a page.
struct window_query {
  int64_t start_ns = min_time_ns;
  int64_t end_ns = max_time_ns;
  std::string ns;
  std::string resource;
  std::string group;
  /// Bits `1 << change_class`; 0 = any (changes only).
  uint8_t change_classes = 0;
  uint32_t limit = 1000;
  std::string continue_token;
  /// What the caller may read (see `event_query::access`).
  access_filter access = {};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, window_query& x) {
  return f(caf::meta::type_name("kws.window_query"), x.start_ns, x.end_ns, x.ns,
           x.resource, x.group, x.change_classes, x.limit, x.continue_token,
           x.access);
}

/// `GET /api/v1/snapshot?at=`.
struct snapshot_query {
  window_query window;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_query& x) {
  return f(caf::meta::type_name("kws.snapshot_query"), x.window);
}

/// `GET /api/v1/changes`.
struct changes_query {
  window_query window;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, changes_query& x) {
  return f(caf::meta::type_name("kws.changes_query"), x.window);
}

/// A JSON answer. `found == false` is a 404 with `body` as its sentence.
struct json_answer {
  bool found = true;
  std::string body;
  bool has_more = false;
  std::string continue_token;
  /// Items in `body` (the `X-Total-Count` of list answers).
  uint64_t count = 0;
  /// A page of a list: rendered with `X-Total-Count` and `X-Has-More`.
  bool paged = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, json_answer& x) {
  return f(caf::meta::type_name("kws.json_answer"), x.found, x.body, x.has_more,
           x.continue_token, x.count, x.paged);
}

} // namespace kws
