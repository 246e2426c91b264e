#include "rest/cluster_route.hpp"

#include "rest/render.hpp"
#include "rest/routes.hpp"
#include "util/errors.hpp"

#include <algorithm>

namespace kws::rest {

namespace {

std::string listed(const std::vector<std::string>& clusters) {
  std::string out;
  for (const auto& c : clusters) {
    if (!out.empty())
      out += ", ";
    out += c;
  }
  return out;
}

bool about_the_hub(const http_request& req) {
  switch (match_route(req.path).which) {
    case route::clusters:
    case route::health:
    case route::livez:
    case route::readyz:
    case route::metrics:
    case route::unknown: return true;
    default: return false;
  }
}

} // namespace

caf::expected<cluster_route>
route_by_cluster(http_request req, const std::vector<std::string>& clusters) {
  cluster_route out;
  size_t named = 0;
  for (size_t i = 0; i < req.query_names.size();) {
    if (req.query_names[i] != "cluster") {
      ++i;
      continue;
    }
    if (++named > 1)
      return caf::make_error(ec::invalid_argument, "cluster",
                             "given more than once");
    out.cluster = std::move(req.query_values[i]);
    req.query_names.erase(req.query_names.begin() + static_cast<long>(i));
    req.query_values.erase(req.query_values.begin() + static_cast<long>(i));
  }
  const bool hub = about_the_hub(req);
  if (named == 0 && clusters.size() > 1
      && match_route(req.path).which == route::mcp) {
    out.hub_mcp = true;
    out.request = std::move(req);
    return out;
  }
  if (named == 0 && clusters.size() > 1
      && match_route(req.path).which == route::changes) {
    for (const auto& name : req.query_names)
      if (name == "continue")
        return caf::make_error(ec::invalid_argument, "continue",
                               "the changes of every cluster have one page; "
                               "page one cluster's with cluster=");
    out.every = true;
    out.request = std::move(req);
    return out;
  }
  if (named == 0 && !hub) {
    if (clusters.size() != 1)
      return caf::make_error(ec::invalid_argument, "cluster",
                             "needed: this hub answers for " + listed(clusters)
                               + "; name one");
    out.cluster = clusters.front();
  }
  if (named > 0
      && std::find(clusters.begin(), clusters.end(), out.cluster)
        == clusters.end())
    return caf::make_error(ec::invalid_argument, "cluster",
                           "unknown cluster '" + out.cluster
                             + "': this hub answers for " + listed(clusters));
  if (hub && match_route(req.path).which != route::clusters
      && out.cluster.empty())
    out.cluster = clusters.front();
  out.request = std::move(req);
  return out;
}

http_response render_clusters(const std::vector<std::string>& clusters) {
  std::string body = R"({"clusters":[)";
  for (size_t i = 0; i < clusters.size(); ++i) {
    if (i > 0)
      body += ',';
    body += R"({"name":)" + json_string(clusters[i]) + "}";
  }
  body += "]}";
  http_response res;
  res.status = 200;
  res.content_type = "application/json";
  res.body = std::move(body);
  return res;
}

} // namespace kws::rest
