// Which resource types to watch, and how clients name them (pure logic of
// DISCOVERY).
#pragma once

#include "messages/resource_type.hpp"

#include <caf/expected.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws {

/// A CustomResourceDefinition as far as watching it is concerned.
struct crd_info {
  /// `metadata.name`, e.g. "widgets.example.com".
  std::string name;
  /// The served storage version's type; set only once Established.
  std::optional<resource_type> type;
};

/// Reads a CustomResourceDefinition object. Fails on malformed JSON.
caf::expected<crd_info> parse_crd(std::string_view json);

/// The watched set: every discovered preferred, listable and watchable type
/// with `watch_all`; otherwise the configured types that the apiserver
/// serves, plus established CRDs when `discover_crds`. Sorted by
/// group_resource, no duplicates.
std::vector<resource_type>
select_watched(const std::vector<resource_type>& configured,
               const std::vector<api_resource>& discovered,
               const std::map<std::string, resource_type>& crds, bool watch_all,
               bool discover_crds);

} // namespace kws
