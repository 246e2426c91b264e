// The endpoint table of the REST API as data.
#pragma once

#include <string>
#include <string_view>

namespace kws::rest {

/// Which endpoint a path names.
enum class route {
  /// No such endpoint (404).
  unknown,
  health,
  livez,
  readyz,
  metrics,
  /// GET /api/v1/events
  events,
  /// GET /api/v1/events/{namespace}/{resourceType}/{name}
  object_history,
  /// GET /api/v1/events/{namespace}/{resourceType}/{name}/diff
  object_diff,
  /// GET /api/v1/events/{namespace}/{resourceType}/{name}/blame
  object_blame,
  /// GET /api/v1/records/{id}
  record,
  /// GET /api/v1/snapshot
  snapshot,
  /// GET /api/v1/changes
  changes,
  /// GET /api/v1/coverage
  coverage,
  /// GET /api/v1/clusters (a server lists none; a hub its own)
  clusters,
  /// POST /admin/backup?dest=DIR (loopback only)
  admin_backup,
  /// POST /mcp (the server lets no other method through)
  mcp,
};

/// A matched route with its path parameters (the object routes and
/// `record`).
struct route_match {
  route which = route::unknown;
  std::string ns;
  std::string resource_type;
  std::string name;
  /// The `{id}` of `record`.
  std::string id;
};

/// Matches a decoded path. `_cluster` as namespace means cluster-scoped and
/// is returned as "".
route_match match_route(std::string_view path);

/// True for the paths of the kubelet's probes (`/health`, its alias
/// `/healthz`, `/livez`, `/readyz`): answered on the I/O thread, served when
/// the server is full, logged only when they fail.
bool is_probe_path(std::string_view path);

} // namespace kws::rest
