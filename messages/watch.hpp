// What the Kubernetes client delivers to a watcher: list results and watch
// events, as raw JSON so parsing happens on the actor side.
#pragma once

#include "messages/object_facts.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kws {

/// The `type` of a watch event line.
enum class watch_event_type : uint8_t { added, modified, deleted, bookmark };

inline std::string to_string(watch_event_type x) {
  switch (x) {
    case watch_event_type::added: return "ADDED";
    case watch_event_type::modified: return "MODIFIED";
    case watch_event_type::deleted: return "DELETED";
    case watch_event_type::bookmark: return "BOOKMARK";
  }
  return "UNKNOWN";
}

/// One event of a watch stream.
struct watch_event {
  watch_event_type type = watch_event_type::added;
  /// The event's `object` as JSON text.
  std::string object;
  /// `object.metadata.resourceVersion`, extracted by the client.
  std::string resource_version;
  /// What the client's pass over the line read from `object`.
  object_facts facts = {};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watch_event& x) {
  return f(caf::meta::type_name("kws.watch_event"), x.type, x.object,
           x.resource_version, x.facts);
}

/// The complete result of a (paged) list: every item and the list's
/// resourceVersion, from which the following watch starts.
struct list_result {
  /// Each item as JSON text, with `apiVersion` and `kind` filled in.
  std::vector<std::string> items;
  std::string resource_version;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_result& x) {
  return f(caf::meta::type_name("kws.list_result"), x.items,
           x.resource_version);
}

/// What storage knows about one live object of a resource type; a relist
/// diffs the fresh list against these.
struct live_object {
  /// "<namespace>/<name>" ("<name>" for cluster-scoped objects).
  std::string key;
  std::string uid;
  std::string resource_version;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, live_object& x) {
  return f(caf::meta::type_name("kws.live_object"), x.key, x.uid,
           x.resource_version);
}

/// Where a watcher resumes after a restart.
struct watch_checkpoint {
  /// Last resourceVersion whose events are durable; "" when never watched.
  std::string resource_version;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watch_checkpoint& x) {
  return f(caf::meta::type_name("kws.watch_checkpoint"), x.resource_version);
}

} // namespace kws
