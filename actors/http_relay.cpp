// The relay keeps the HTTP HANDLER a plain request/response actor that its
// tests and other actors can ask, while the REST server, which is not an
// actor, still gets its answer written by a callback.
#include "actors/http_relay.hpp"

#include "rest/server.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"

#include <caf/event_based_actor.hpp>

#include <utility>

namespace kws {

void relay_request(http_relay_actor::pointer self,
                   const http_handler_actor& handler, http_request req,
                   const responder_ptr& rp) {
  self->request(handler, caf::infinite, std::move(req))
    .then([rp](http_response& res) { rp->deliver(std::move(res)); },
          [rp](const caf::error& err) {
            KWS_WARN("a request got no answer from the HTTP handler: {}",
                     render(err));
            rp->deliver(rest::error_response(
              503, "the request was not answered: " + render(err)));
          });
}

http_relay_actor::behavior_type http_relay(http_relay_actor::pointer self,
                                           const http_handler_actor& handler) {
  return {
    [self, handler](http_request& req, responder_ptr& rp) {
      relay_request(self, handler, std::move(req), rp);
    },
  };
}

} // namespace kws
