// What of a resource type is recorded: the namespaces, selectors and
// status-update policy the configuration sets for it.
#pragma once

#include "messages/resource_type.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kws {

/// Whether updates that change only `status` are stored.
enum class status_updates : uint8_t { keep, drop };

inline std::string_view to_string(status_updates x) {
  return x == status_updates::drop ? "drop" : "keep";
}

/// The part of a resource type that is recorded. Empty members select
/// everything; namespace lists apply to namespaced types only.
struct watch_filter {
  /// Namespaces recorded; empty: all.
  std::vector<std::string> namespaces;
  /// Namespaces never recorded (wins over `namespaces`).
  std::vector<std::string> exclude_namespaces;
  /// A Kubernetes label selector, e.g. `app=web,tier notin (cache)`.
  std::string label_selector;
  /// A Kubernetes field selector, e.g. `spec.nodeName=node-1`.
  std::string field_selector;
  status_updates status = status_updates::keep;

  /// True when everything of the type is recorded.
  bool records_everything() const {
    return namespaces.empty() && exclude_namespaces.empty()
      && label_selector.empty() && field_selector.empty()
      && status == status_updates::keep;
  }

  friend bool operator==(const watch_filter&, const watch_filter&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watch_filter& x) {
  return f(caf::meta::type_name("kws.watch_filter"), x.namespaces,
           x.exclude_namespaces, x.label_selector, x.field_selector, x.status);
}

/// The namespace lists every namespaced type is recorded under, and each
/// type's own filter by `group_resource()`.
struct watch_filters {
  std::vector<std::string> namespaces;
  std::vector<std::string> exclude_namespaces;
  std::map<std::string, watch_filter> by_type;

  /// What of `type` is recorded: its own filter under the global lists
  /// (its `namespaces` replace the global ones, its exclusions add to
  /// them). Namespace lists do not apply to cluster-scoped types.
  watch_filter for_type(const resource_type& type) const;

  friend bool operator==(const watch_filters&, const watch_filters&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watch_filters& x) {
  return f(caf::meta::type_name("kws.watch_filters"), x.namespaces,
           x.exclude_namespaces, x.by_type);
}

/// What DISCOVERY watches and how: the part of the configuration a reload
/// changes at run time.
struct watch_settings {
  /// Types named by the configuration.
  std::vector<resource_type> resources;
  bool watch_all = false;
  bool discover_crds = true;
  bool digest_secret_values = true;
  /// A watcher further behind its stream than this reports itself behind.
  int64_t max_watch_lag_ms = 30'000;
  watch_filters filters;

  friend bool operator==(const watch_settings&, const watch_settings&)
    = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watch_settings& x) {
  return f(caf::meta::type_name("kws.watch_settings"), x.resources, x.watch_all,
           x.discover_crds, x.digest_secret_values, x.max_watch_lag_ms,
           x.filters);
}

} // namespace kws
