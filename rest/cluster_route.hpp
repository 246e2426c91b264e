// Which cluster a request to a hub is for (`k8s-watch-server hub`): the
// `cluster` query parameter, taken off the request so that the cluster's
// own handler sees the request a server would. Pure.
#pragma once

#include "messages/http.hpp"

#include <caf/expected.hpp>

#include <string>
#include <vector>

namespace kws::rest {

/// Where a request goes.
struct cluster_route {
  /// The cluster named, or the hub's only one; "" for `/api/v1/clusters`
  /// and for a request every cluster answers (`every`).
  std::string cluster;
  /// `GET /api/v1/changes` without a cluster at a hub of several: every
  /// cluster answers and the answers are merged (`merge_changes`).
  bool every = false;
  /// `POST /mcp` without a cluster at a hub of several: the hub's own MCP
  /// endpoint, whose tools take a `cluster` argument.
  bool hub_mcp = false;
  /// The request without its `cluster` parameter.
  http_request request;
};

/// Routes `req` among `clusters` (the hub's, at least one). Errors (400,
/// naming `cluster`): a query that needs a cluster names none while the hub
/// serves several, names one the hub does not serve, or names one twice;
/// (naming `continue`) a page after the first of every cluster's changes.
caf::expected<cluster_route>
route_by_cluster(http_request req, const std::vector<std::string>& clusters);

/// The body of `GET /api/v1/clusters`: `{"clusters":[{"name":...},...]}`.
http_response render_clusters(const std::vector<std::string>& clusters);

} // namespace kws::rest
