// The HTTP RELAY: the REST server's way into the actors. A session hands it
// a request and the responder that writes the answer; the relay asks the
// HTTP HANDLER and hands its reply, or why there is none, to the responder.
#pragma once

#include "actors/interfaces.hpp"

namespace kws {

/// Asks `handler` for the answer to `req` and hands it to `rp`, or a 503
/// saying why there is none.
void relay_request(http_relay_actor::pointer self,
                   const http_handler_actor& handler, http_request req,
                   const responder_ptr& rp);

/// Implements the HTTP RELAY interface. A request whose `handler` has
/// stopped is a 503. The relay sets no timer of its own: every request the
/// handler sends has one, so every request it takes is answered, and a
/// timer per request would cost the actor clock's thread two wake-ups.
http_relay_actor::behavior_type http_relay(http_relay_actor::pointer self,
                                           const http_handler_actor& handler);

} // namespace kws
