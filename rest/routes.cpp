#include "rest/routes.hpp"

#include "rest/url.hpp"

namespace kws::rest {

bool is_probe_path(std::string_view path) {
  auto which = match_route(path).which;
  return which == route::health || which == route::livez
    || which == route::readyz;
}

route_match match_route(std::string_view path) {
  route_match result;
  if (path == "/health" || path == "/healthz")
    result.which = route::health;
  else if (path == "/livez")
    result.which = route::livez;
  else if (path == "/readyz")
    result.which = route::readyz;
  else if (path == "/metrics")
    result.which = route::metrics;
  else if (path == "/admin/backup")
    result.which = route::admin_backup;
  else if (path == "/api/v1/coverage")
    result.which = route::coverage;
  else if (path == "/api/v1/snapshot")
    result.which = route::snapshot;
  else if (path == "/api/v1/changes")
    result.which = route::changes;
  else if (path == "/api/v1/clusters")
    result.which = route::clusters;
  else if (path == "/mcp")
    result.which = route::mcp;
  if (result.which != route::unknown)
    return result;
  auto segs = path_segments(path);
  if (segs.size() == 4 && segs[0] == "api" && segs[1] == "v1"
      && segs[2] == "records") {
    result.which = route::record;
    result.id = std::string{segs[3]};
    return result;
  }
  if (segs.size() < 3 || segs[0] != "api" || segs[1] != "v1"
      || segs[2] != "events")
    return result;
  if (segs.size() == 3) {
    result.which = route::events;
    return result;
  }
  if (segs.size() == 6)
    result.which = route::object_history;
  else if (segs.size() == 7 && segs[6] == "diff")
    result.which = route::object_diff;
  else if (segs.size() == 7 && segs[6] == "blame")
    result.which = route::object_blame;
  else
    return result;
  result.ns = segs[3] == "_cluster" ? std::string{} : std::string{segs[3]};
  result.resource_type = std::string{segs[4]};
  result.name = std::string{segs[5]};
  return result;
}

} // namespace kws::rest
