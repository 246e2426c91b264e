// Who asks and what they may read: the caller a bearer token names
// (TokenReview) and the types and namespaces the cluster's authorizer lets
// them `get` (SubjectAccessReview), as the filter queries apply.
#pragma once

#include "messages/resource_type.hpp"

#include <caf/meta/type_name.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws {

/// The user a token belongs to, as the apiserver's TokenReview says.
struct caller {
  std::string user;
  std::string uid;
  std::vector<std::string> groups;
  /// `status.user.extra` as JSON text ("" when none), passed on unchanged
  /// to every SubjectAccessReview of this caller.
  std::string extra_json;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, caller& x) {
  return f(caf::meta::type_name("kws.caller"), x.user, x.uid, x.groups,
           x.extra_json);
}

/// What a query may return. Records are matched by namespace and
/// `group_resource` (`pods`, `deployments.apps`); a record of an Event
/// linked to an object needs both its own and its object's permission.
struct access_filter {
  /// No restriction: authorization is off, or the caller may get every
  /// type of the query in every namespace of it.
  bool everything = true;
  /// Sorted `group_resource`s the caller may get in every namespace.
  std::vector<std::string> cluster_types;
  /// Sorted `namespace + '/' + group_resource` pairs the caller may get
  /// in that namespace only.
  std::vector<std::string> namespace_types;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, access_filter& x) {
  return f(caf::meta::type_name("kws.access_filter"), x.everything,
           x.cluster_types, x.namespace_types);
}

/// True when `filter` lets a record of `resource` in `group` and namespace
/// `ns` ("" for cluster-scoped objects) through. Allocates nothing.
bool allows(const access_filter& filter, std::string_view ns,
            std::string_view resource, std::string_view group);

/// True when `filter` lets a record of `resource` of any group in namespace
/// `ns` through: for references that carry no group.
bool allows_any_group(const access_filter& filter, std::string_view ns,
                      std::string_view resource);

/// What a query reaches: the types it may return, in one namespace or all.
struct access_request {
  /// The bearer token of the request.
  std::string token;
  /// "" for every namespace.
  std::string ns;
  /// The types the query may return; only namespaced ones are asked about
  /// in a namespace. Empty: the caller is only authenticated.
  std::vector<resource_type> types;
  /// Over every namespace: when a type is denied cluster-wide, ask each
  /// namespace (false: denied is denied).
  bool per_namespace = true;
  /// The caller a trusted front proxy named (`auth.mode: proxy`); when its
  /// `user` is set, `token` is not asked about.
  caller proxied = {};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, access_request& x) {
  return f(caf::meta::type_name("kws.access_request"), x.token, x.ns, x.types,
           x.per_namespace, x.proxied);
}

/// The answer to an `access_request`.
struct access_grant {
  caller who;
  access_filter filter;
  /// `group_resource`s of the request the caller may get nowhere in it.
  std::vector<std::string> denied_types;
  /// Namespaces where the caller may not get some type that they may get
  /// in another one (only for requests over every namespace).
  std::vector<std::string> partial_namespaces;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, access_grant& x) {
  return f(caf::meta::type_name("kws.access_grant"), x.who, x.filter,
           x.denied_types, x.partial_namespaces);
}

/// The namespace ("" when cluster-scoped) and type of a stored record,
/// read from its `namespace`, `resourceType` and `apiVersion`: what its
/// reader must be allowed to get.
struct record_owner_info {
  std::string ns;
  resource_type type;
};

/// The owner of a record's JSON; none when the record lacks those fields.
std::optional<record_owner_info> record_owner(std::string_view record);

} // namespace kws
