// A hub's clusters share nothing but the process: each has its own store,
// so ids, days and tallies stay those of its server, and a query is one
// cluster's query, answered by the code that answers it on that server.
#include "actors/hub_supervisor.hpp"

#include "actors/http_relay.hpp"
#include "actors/index.hpp"
#include "rest/changes_merge.hpp"
#include "rest/cluster_route.hpp"
#include "rest/render.hpp"
#include "rest/server.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <charconv>
#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<hub_supervisor_state>);

namespace {

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

/// Asks every cluster's handler and delivers their answers merged.
void ask_every_cluster(
  http_relay_actor::pointer self,
  const std::map<std::string, http_handler_actor>& handlers,
  const http_request& req, uint32_t limit, const responder_ptr& rp) {
  struct gathering {
    std::vector<rest::cluster_answer> answers;
    size_t pending = 0;
  };
  auto g = std::make_shared<gathering>();
  g->answers.resize(handlers.size());
  g->pending = handlers.size();
  size_t i = 0;
  for (const auto& [name, hdl] : handlers) {
    g->answers[i].cluster = name;
    auto done = [g, i, limit, rp](http_response res) {
      g->answers[i].response = std::move(res);
      if (--g->pending == 0)
        rp->deliver(rest::merge_changes(g->answers, limit));
    };
    self->request(hdl, caf::infinite, req)
      .then([done](http_response& res) { done(std::move(res)); },
            [done](const caf::error& err) {
              done(rest::error_response(
                503, "the request was not answered: " + render(err)));
            });
    ++i;
  }
}

} // namespace

http_relay_actor::behavior_type
hub_relay(http_relay_actor::pointer self,
          std::map<std::string, http_handler_actor> handlers,
          uint32_t max_limit) {
  std::vector<std::string> clusters;
  for (const auto& [name, hdl] : handlers)
    clusters.push_back(name);
  return {
    [self, handlers, clusters, max_limit](http_request& req,
                                          responder_ptr& rp) {
      auto route = rest::route_by_cluster(std::move(req), clusters);
      if (!route)
        return rp->deliver(rest::render_error(route.error()));
      if (route->every)
        return ask_every_cluster(self, handlers, route->request,
                                 limit_of(route->request, max_limit), rp);
      if (route->cluster.empty())
        return rp->deliver(rest::render_clusters(clusters));
      relay_request(self, handlers.at(route->cluster),
                    std::move(route->request), rp);
    },
  };
}

supervisor_actor::behavior_type hub_supervisor(
  supervisor_actor::stateful_pointer<hub_supervisor_state> self,
  hub_supervisor_config cfg,
  std::map<std::string, std::shared_ptr<storage::rocks_store>> stores,
  hub_poll poll, hub_commit commit) {
  auto& st = self->state;
  st.config = std::move(cfg);
  st.stores = std::move(stores);
  std::map<std::string, hub_cluster> sources;
  for (const auto& [name, store] : st.stores) {
    auto& indexes = st.indexes[name];
    for (size_t i = 0; i < std::max<size_t>(st.config.query_workers, 1); ++i)
      indexes.push_back(
        self->spawn<caf::monitored + caf::detached>(kws::index, store));
    // A hub watches nothing and writes through no STORAGE actor: the
    // handler learns the types from the HUB INGEST's catalogs.
    auto http = self->spawn<caf::monitored>(http_handler, st.config.http,
                                            indexes, discovery_actor{},
                                            storage_actor{}, access_actor{});
    st.http.emplace(name, http);
    sources.emplace(
      name, hub_cluster{store, caf::actor_cast<catalog_sink_actor>(http)});
  }
  st.ingest = self->spawn<caf::monitored + caf::detached>(
    hub_ingest, st.config.ingest, std::move(sources), std::move(poll),
    std::move(commit));
  st.relay = self->spawn<caf::monitored>(hub_relay, st.http,
                                         st.config.http.max_query_limit);
  self->set_down_handler([self](const caf::down_msg& msg) {
    KWS_ERROR("hub supervisor lost an actor, stopping: {}", msg.reason);
    self->quit(msg.reason
                 ? msg.reason
                 : caf::make_error(ec::unavailable, "a hub actor stopped"));
  });
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& st = self->state;
    std::vector<caf::actor> children{caf::actor_cast<caf::actor>(st.relay),
                                     caf::actor_cast<caf::actor>(st.ingest)};
    for (const auto& [name, hdl] : st.http)
      children.push_back(caf::actor_cast<caf::actor>(hdl));
    for (const auto& [name, indexes] : st.indexes)
      for (const auto& hdl : indexes)
        children.push_back(caf::actor_cast<caf::actor>(hdl));
    for (const auto& hdl : children)
      if (hdl)
        self->send_exit(hdl, msg.reason);
    self->quit(msg.reason);
  });
  return {
    // Ready once started: every write is durable when it returns, and a
    // broker that is down delays records, it does not stop answers.
    [](atom::status) {
      return readiness{true, false, {}};
    },
    [self](atom::get) { return self->state.relay; },
    // A hub watches nothing: a reloaded watch configuration changes nothing.
    [](watch_settings&) { return atom::ok_v; },
    [self](atom::stop) {
      auto& st = self->state;
      self->demonitor(st.ingest.address());
      self->send_exit(st.ingest, caf::exit_reason::user_shutdown);
      return atom::ok_v;
    },
  };
}

} // namespace kws
