// API discovery: which resource types the apiserver serves. Parsing of the
// aggregated (apidiscovery.k8s.io v2/v2beta1) and legacy documents is pure;
// `discover` drives the requests.
#pragma once

#include "messages/resource_type.hpp"
#include "util/errors.hpp"

#include <caf/expected.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kws::kube {

class client;

/// One resource of one group-version as discovery describes it.
/// What discovery reports of one resource (a message type, so DISCOVERY can
/// receive it).
using api_resource_info = kws::api_resource;

/// The Accept header for aggregated discovery: v2, then v2beta1, then plain
/// JSON (legacy documents), with parameters in the order g, v, as.
inline constexpr std::string_view aggregated_discovery_accept
  = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json";

/// True when a response Content-Type says the body is an aggregated
/// discovery document (the server may fall back to plain JSON).
bool is_aggregated_discovery(std::string_view content_type);

/// Parses an `APIGroupDiscoveryList` (from `/api` or `/apis`). The first
/// version of each group is its preferred one. Subresources are not listed.
caf::expected<std::vector<api_resource_info>>
parse_aggregated_discovery(std::string_view body);

/// Parses an `APIVersions` document (legacy `/api`): the core versions.
caf::expected<std::vector<std::string>>
parse_api_versions(std::string_view body);

/// One API group of a legacy `APIGroupList`.
struct api_group {
  std::string name;
  /// Group versions ("apps/v1") in the server's priority order.
  std::vector<std::string> group_versions;
  /// The preferred group version, e.g. "apps/v1".
  std::string preferred;
};

/// Parses an `APIGroupList` document (legacy `/apis`).
caf::expected<std::vector<api_group>>
parse_api_group_list(std::string_view body);

/// Parses an `APIResourceList` (legacy `/api/v1`, `/apis/{g}/{v}`).
/// Subresources (names with '/') are skipped.
/// @param preferred whether this group version is the preferred one.
caf::expected<std::vector<api_resource_info>>
parse_api_resource_list(std::string_view body, bool preferred);

/// The resource types to watch: per group and plural the preferred version
/// (else the first version serving it), only resources with list and
/// watch, and `events.events.k8s.io` dropped when core `events` exists (one
/// storage, two views).
std::vector<resource_type>
select_watchable(const std::vector<api_resource_info>& infos);

/// Runs discovery: aggregated discovery of `/api` and `/apis` when served,
/// else the legacy walk of `/api`, `/api/{v}`, `/apis` and every
/// `/apis/{g}/{v}`. Unreachable group versions (e.g. a down aggregated API
/// answering 503) are logged and skipped. `done` runs on the client's io
/// thread with every resource of every version found.
void discover_api_resources(
  const std::shared_ptr<client>& c,
  const std::function<void(caf::expected<std::vector<api_resource_info>>)>&
    done);

/// `discover_api_resources` reduced by `select_watchable`.
void discover(
  const std::shared_ptr<client>& c,
  std::function<void(caf::expected<std::vector<resource_type>>)> done);

} // namespace kws::kube
