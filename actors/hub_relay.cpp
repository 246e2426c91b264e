// The relay holds no state between requests: a request, or each query of
// an MCP tool, is routed on its own, so the hub's MCP tools reach every
// cluster the way a client's queries do.
#include "actors/hub_relay.hpp"

#include "actors/gather_answers.hpp"
#include "actors/http_relay.hpp"
#include "rest/changes_merge.hpp"
#include "rest/cluster_route.hpp"
#include "rest/render.hpp"
#include "rest/server.hpp"

#include <caf/event_based_actor.hpp>

#include <algorithm>
#include <charconv>
#include <memory>
#include <utility>
#include <vector>

namespace kws {

namespace {

struct relay_context {
  std::map<std::string, http_handler_actor> handlers;
  std::vector<std::string> clusters;
  hub_relay_config config;
};

using context_ptr = std::shared_ptr<const relay_context>;

/// The request's `limit` when it is a number up to `max_limit`, else
/// `max_limit` (a bad one is each cluster's 400 anyway).
uint32_t limit_of(const http_request& req, uint32_t max_limit) {
  for (size_t i = 0; i < req.query_names.size(); ++i)
    if (req.query_names[i] == "limit") {
      uint32_t n = 0;
      const auto& v = req.query_values[i];
      auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (err == std::errc{} && end == v.data() + v.size() && n >= 1)
        return std::min(n, max_limit);
    }
  return max_limit;
}

void answer_routed(http_relay_actor::pointer self, const context_ptr& ctx,
                   http_request req, const responder_ptr& rp);

/// Asks every cluster's handler and delivers their answers merged.
void ask_every_cluster(http_relay_actor::pointer self, const context_ptr& ctx,
                       const http_request& req, const responder_ptr& rp) {
  auto slots = gather_answers(
    ctx->clusters.size(),
    [ctx, rp, limit = limit_of(req, ctx->config.max_limit)](
      std::vector<http_response>& answers) {
      std::vector<rest::cluster_answer> named;
      for (size_t i = 0; i < answers.size(); ++i)
        named.push_back({ctx->clusters[i], std::move(answers[i])});
      rp->deliver(rest::merge_changes(named, limit));
    });
  for (size_t i = 0; i < ctx->clusters.size(); ++i)
    relay_request(self, ctx->handlers.at(ctx->clusters[i]), req, slots[i]);
}

/// The hub's own MCP endpoint: the pure MCP layer with the hub's clusters,
/// its tools' queries routed like a client's.
void answer_hub_mcp(http_relay_actor::pointer self, const context_ptr& ctx,
                    const http_request& req, const responder_ptr& rp) {
  if (req.method != "POST")
    return rp->deliver(rest::error_response(404, "no such endpoint: /mcp"));
  answer_mcp_request(
    req, ctx->config.mcp, rp,
    [self, ctx](http_request query, const responder_ptr& slot) {
      answer_routed(self, ctx, std::move(query), slot);
    });
}

void answer_routed(http_relay_actor::pointer self, const context_ptr& ctx,
                   http_request req, const responder_ptr& rp) {
  auto route = rest::route_by_cluster(std::move(req), ctx->clusters);
  if (!route)
    return rp->deliver(rest::render_error(route.error()));
  if (route->hub_mcp)
    return answer_hub_mcp(self, ctx, route->request, rp);
  if (route->every)
    return ask_every_cluster(self, ctx, route->request, rp);
  if (route->cluster.empty())
    return rp->deliver(rest::render_clusters(ctx->clusters));
  relay_request(self, ctx->handlers.at(route->cluster),
                std::move(route->request), rp);
}

} // namespace

http_relay_actor::behavior_type
hub_relay(http_relay_actor::pointer self,
          std::map<std::string, http_handler_actor> handlers,
          hub_relay_config cfg) {
  auto ctx = std::make_shared<relay_context>();
  for (const auto& [name, hdl] : handlers)
    ctx->clusters.push_back(name);
  ctx->handlers = std::move(handlers);
  ctx->config = std::move(cfg);
  return {
    [self, ctx = context_ptr{ctx}](http_request& req, responder_ptr& rp) {
      answer_routed(self, ctx, std::move(req), rp);
    },
  };
}

} // namespace kws
