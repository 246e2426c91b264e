// The SUPERVISOR spawns storage → index → correlator → discovery → HTTP
// handler, monitors them and answers main(). Watchers are restarted by
// DISCOVERY; a core actor that stops unasked stops the supervisor, and main()
// exits non-zero so that the pod restarts with a fresh store handle. On
// `stop` it flushes storage and replies once the last batch is durable.
#include "actors/supervisor.hpp"

#include "actors/access.hpp"
#include "actors/correlator.hpp"
#include "actors/http_relay.hpp"
#include "actors/index.hpp"
#include "kube/api_source.hpp"
#include "util/logging.hpp"

#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<supervisor_state>);

supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           supervisor_config cfg, std::shared_ptr<storage::rocks_store> store,
           std::shared_ptr<kube::client> client) {
  auto& st = self->state;
  st.config = std::move(cfg);
  st.store = std::move(store);
  st.client = std::move(client);
  st.storage = self->spawn<caf::monitored + caf::detached>(
    storage_writer, st.config.storage, st.store);
  for (size_t i = 0; i < std::max<size_t>(st.config.query_workers, 1); ++i)
    st.indexes.push_back(
      self->spawn<caf::monitored + caf::detached>(kws::index, st.store));
  if (st.config.export_to)
    st.exporter = self->spawn<caf::monitored + caf::detached>(
      kws::exporter, st.config.exporter, st.store, st.config.export_to);
  st.correlator = self->spawn<caf::monitored>(kws::correlator, st.storage);
  st.discovery = self->spawn<caf::monitored>(
    kws::discovery, st.config.discovery,
    kube::make_client_api_source(st.client), st.storage, st.correlator);
  if (st.config.access_client)
    st.access = self->spawn<caf::monitored>(kws::access, st.config.access,
                                            st.config.access_client);
  st.http
    = self->spawn<caf::monitored>(http_handler, st.config.http, st.indexes,
                                  st.discovery, st.storage, st.access);
  self->send(st.discovery, atom::add_v,
             caf::actor_cast<catalog_sink_actor>(st.http));
  st.relay = self->spawn<caf::monitored>(http_relay, st.http);
  self->set_down_handler([self](const caf::down_msg& msg) {
    KWS_ERROR("supervisor lost a core actor, stopping: {}", msg.reason);
    self->quit(msg.reason
                 ? msg.reason
                 : caf::make_error(ec::unavailable, "a core actor stopped"));
  });
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& st = self->state;
    std::vector<caf::actor> children{caf::actor_cast<caf::actor>(st.discovery),
                                     caf::actor_cast<caf::actor>(st.relay),
                                     caf::actor_cast<caf::actor>(st.http),
                                     caf::actor_cast<caf::actor>(st.access),
                                     caf::actor_cast<caf::actor>(st.correlator),
                                     caf::actor_cast<caf::actor>(st.exporter)};
    for (const auto& index : st.indexes)
      children.push_back(caf::actor_cast<caf::actor>(index));
    children.push_back(caf::actor_cast<caf::actor>(st.storage));
    for (const auto& hdl : children)
      if (hdl)
        self->send_exit(hdl, msg.reason);
    self->quit(msg.reason);
  });
  return {
    // Readiness of the whole service.
    [self](atom::status) -> caf::result<readiness> {
      return self->delegate(self->state.discovery, atom::status_v);
    },
    // The relay the REST server feeds.
    [self](atom::get) { return self->state.relay; },
    [self](watch_settings& next) -> caf::result<atom::ok> {
      return self->delegate(self->state.discovery, std::move(next));
    },
    // Flush storage and stop the watchers; replies when durable.
    [self](atom::stop) -> caf::result<atom::ok> {
      auto& st = self->state;
      self->demonitor(st.discovery.address());
      self->send_exit(st.discovery, caf::exit_reason::user_shutdown);
      auto rp = self->make_response_promise<atom::ok>();
      self->request(st.storage, std::chrono::seconds{10}, atom::flush_v)
        .then(
          [rp](uint64_t n) mutable {
            KWS_INFO("supervisor flushed {} records before shutdown", n);
            rp.deliver(atom::ok_v);
          },
          [rp](const caf::error& err) mutable {
            KWS_ERROR("Error storing event: final flush failed: {}", err);
            rp.deliver(err);
          });
      return rp;
    },
  };
}

} // namespace kws
