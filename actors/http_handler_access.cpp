#include "actors/http_handler_access.hpp"

#include "rest/access_answer.hpp"
#include "rest/render.hpp"
#include "rest/server.hpp"
#include "util/logging.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <utility>

namespace kws {

namespace {

void ask_access(http_handler_self self, const responder_ptr& rp,
                access_request scope,
                const std::function<void(const access_grant&)>& then) {
  self
    ->request(self->state.access, self->state.config.timeout, std::move(scope))
    .then([then](const access_grant& grant) { then(grant); },
          [rp](const caf::error& err) {
            if (err != ec::unauthenticated)
              KWS_WARN("http-handler: access check failed: {}", err);
            rp->deliver(rest::render_error(err));
          });
}

} // namespace

resource_type core_events_type() {
  return resource_type{"", "v1", "Event", "events", true};
}

void with_access(http_handler_self self, const http_request& req,
                 const responder_ptr& rp, const std::string& ns,
                 std::vector<resource_type> types, bool per_namespace,
                 const std::string& required,
                 const std::function<void(const access_grant&)>& then) {
  if (!self->state.access)
    return then(access_grant{});
  auto who = rest::access_of(req);
  if (!who)
    return rp->deliver(rest::render_error(who.error()));
  auto scope = std::move(*who);
  scope.ns = ns;
  scope.types = std::move(types);
  scope.per_namespace = per_namespace;
  auto finish = [rp, ns, required, then](const access_grant& grant) {
    if (auto err = rest::refusal(grant, ns, required))
      return rp->deliver(rest::render_error(err));
    then(grant);
  };
  if (!scope.types.empty())
    return ask_access(self, rp, std::move(scope), finish);
  if (const auto& catalog = self->state.catalog) {
    scope.types = catalog->watched;
    return ask_access(self, rp, std::move(scope), finish);
  }
  // Every watched type: DISCOVERY knows which.
  self
    ->request(self->state.discovery, self->state.config.timeout, atom::status_v)
    .then(
      [self, rp, scope, finish](const readiness& r) mutable {
        for (const auto& w : r.watchers)
          scope.types.push_back(w.type);
        ask_access(self, rp, std::move(scope), finish);
      },
      [rp](const caf::error& err) {
        rp->deliver(rest::error_response(503, "not ready: " + render(err)));
      });
}

void with_caller(http_handler_self self, const http_request& req,
                 const responder_ptr& rp, const std::function<void()>& then) {
  if (!self->state.access)
    return then();
  auto who = rest::access_of(req);
  if (!who)
    return rp->deliver(rest::render_error(who.error()));
  who->per_namespace = false;
  ask_access(self, rp, std::move(*who),
             [then](const access_grant&) { then(); });
}

} // namespace kws
