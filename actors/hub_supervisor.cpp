// A hub's clusters share nothing but the process: each has its own store,
// so ids, days and tallies stay those of its server, and a query is one
// cluster's query, answered by the code that answers it on that server.
#include "actors/hub_supervisor.hpp"

#include "actors/hub_relay.hpp"
#include "actors/index.hpp"
#include "actors/store_backup.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<hub_supervisor_state>);

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
    // handler learns the types from the HUB INGEST's catalogs, and a STORE
    // BACKUP writes the cluster's backups.
    auto backup
      = self->spawn<caf::monitored + caf::detached>(store_backup, store);
    st.backups.emplace(name, backup);
    auto http
      = self->spawn<caf::monitored>(http_handler, st.config.http, indexes,
                                    discovery_actor{}, backup, access_actor{});
    st.http.emplace(name, http);
    sources.emplace(
      name, hub_cluster{store, caf::actor_cast<catalog_sink_actor>(http)});
  }
  st.ingest = self->spawn<caf::monitored + caf::detached>(
    hub_ingest, st.config.ingest, std::move(sources), std::move(poll),
    std::move(commit));
  hub_relay_config rcfg;
  rcfg.max_limit = st.config.http.max_query_limit;
  rcfg.mcp = st.config.http.mcp;
  for (const auto& [name, hdl] : st.http)
    rcfg.mcp.clusters.push_back(name);
  st.relay = self->spawn<caf::monitored>(hub_relay, st.http, std::move(rcfg));
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
    for (const auto& [name, hdl] : st.backups)
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
