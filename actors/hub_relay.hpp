// The HUB RELAY: the REST server's way into a hub.
#pragma once

#include "actors/interfaces.hpp"
#include "rest/mcp/protocol.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace kws {

/// Configuration of the HUB RELAY.
struct hub_relay_config {
  /// Entries of `GET /api/v1/changes` across clusters without a `limit`.
  uint32_t max_limit = 1000;
  /// The hub's own MCP endpoint (`POST /mcp` without a cluster); `clusters`
  /// lists the hub's.
  mcp::options mcp;
};

/// Implements the HTTP RELAY interface for a hub: sends each request to the
/// handler of the cluster it names (`rest::route_by_cluster`); asks every
/// handler for `GET /api/v1/changes` without a cluster and merges their
/// answers; answers `GET /api/v1/clusters` itself; and serves the hub's
/// own MCP endpoint, whose tools' queries take the same routes.
http_relay_actor::behavior_type
hub_relay(http_relay_actor::pointer self,
          std::map<std::string, http_handler_actor> handlers,
          hub_relay_config cfg);

} // namespace kws
