// The resource types queries name, as one immutable value: DISCOVERY builds
// a new one whenever what it knows changes and hands it to the HTTP
// HANDLER, which then resolves `resourceType` without asking anyone.
#pragma once

#include "kube/resolver.hpp"
#include "messages/resource_type.hpp"

#include <caf/expected.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kws::kube {

struct type_catalog {
  /// What discovery serves, CRDs included; null before the first discovery.
  std::shared_ptr<const resource_resolver> resolver;
  /// Types no longer served or watched whose history is still stored, by
  /// `group_resource`.
  std::map<std::string, resource_type> retired;
  /// The types being watched.
  std::vector<resource_type> watched;

  /// A query's `resourceType` (plural, kind, singular, short name or
  /// plural.group; a retired type by its plural, group_resource or kind).
  /// Errors name the parameter: `unavailable` before the first discovery,
  /// `invalid_argument` for an unknown name.
  caf::expected<resource_type> resolve(std::string_view name) const;
};

using type_catalog_ptr = std::shared_ptr<const type_catalog>;

/// A catalog of types known only from the records stored of them (a hub's,
/// which watches nothing): each resolves by plural, kind, lowercase kind
/// and plural.group.
type_catalog_ptr stored_catalog(const std::vector<resource_type>& types);

} // namespace kws::kube
