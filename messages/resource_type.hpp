// One watchable Kubernetes resource type (group/version/resource + kind).
#pragma once

#include <caf/meta/type_name.hpp>

#include <string>
#include <string_view>

namespace kws {

/// A Kubernetes resource type as discovery and the configuration name it.
struct resource_type {
  /// API group; "" for the core group.
  std::string group;
  /// Served version, e.g. "v1".
  std::string version;
  /// Kind, e.g. "Deployment".
  std::string kind;
  /// Lowercase plural resource name, e.g. "deployments".
  std::string plural;
  /// True for namespaced resources.
  bool namespaced = true;

  /// "v1" for the core group, "<group>/<version>" otherwise.
  std::string api_version() const {
    return group.empty() ? version : group + "/" + version;
  }

  /// Identity of the resource independent of version: "<plural>" for the
  /// core group, "<plural>.<group>" otherwise.
  std::string group_resource() const {
    return group.empty() ? plural : plural + "." + group;
  }

  /// Collection path, e.g. "/apis/apps/v1/deployments" (all namespaces).
  std::string collection_path() const {
    return (group.empty() ? "/api/" : "/apis/" + group + "/") + version + "/"
      + plural;
  }

  /// Path of one object, e.g. "/api/v1/namespaces/default/pods/p".
  std::string object_path(const std::string& ns,
                          const std::string& name) const {
    auto result = (group.empty() ? "/api/" : "/apis/" + group + "/") + version;
    if (namespaced && !ns.empty())
      result += "/namespaces/" + ns;
    return result + "/" + plural + "/" + name;
  }

  friend bool operator==(const resource_type&, const resource_type&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_type& x) {
  return f(caf::meta::type_name("kws.resource_type"), x.group, x.version,
           x.kind, x.plural, x.namespaced);
}

} // namespace kws

#include <vector>

namespace kws {

/// A resource type as discovery serves it, with the names a client may use
/// for it and what it supports.
struct api_resource {
  resource_type type;
  /// Singular name, e.g. "deployment" ("" when the server omits it).
  std::string singular;
  std::vector<std::string> short_names;
  std::vector<std::string> verbs;
  std::vector<std::string> categories;
  /// True when `type.version` is the preferred version of its group.
  bool preferred = false;
  /// True when aggregated discovery marked the group-version "Stale" (an
  /// aggregated apiserver could not be reached).
  bool stale = false;

  bool has_verb(std::string_view verb) const {
    for (const auto& v : verbs)
      if (v == verb)
        return true;
    return false;
  }

  /// True when the resource supports both list and watch.
  bool watchable() const { return has_verb("list") && has_verb("watch"); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, api_resource& x) {
  return f(caf::meta::type_name("kws.api_resource"), x.type, x.singular,
           x.short_names, x.verbs, x.categories, x.preferred, x.stale);
}

} // namespace kws
