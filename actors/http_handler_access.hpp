// The HTTP HANDLER's side of `auth.mode: token`: before a query runs, ACCESS
// says who asks and what they may read of the types the query reaches.
#pragma once

#include "actors/http_handler.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kws {

using http_handler_self
  = http_handler_actor::stateful_pointer<http_handler_state>;

/// Calls `then` with what the caller of `req` may read of `types` (every
/// watched type when empty) in `ns` ("" = every namespace; there a type
/// denied cluster-wide is narrowed to the namespaces allowed when
/// `per_namespace`). Without ACCESS (auth off) at once, with a grant of
/// everything. Answers 401 and 503 itself, and 403 naming the permission
/// when `required` (a group_resource) is denied or, with `required` empty,
/// when nothing is allowed.
void with_access(http_handler_self self, const http_request& req,
                 const responder_ptr& rp, const std::string& ns,
                 std::vector<resource_type> types, bool per_namespace,
                 const std::string& required,
                 const std::function<void(const access_grant&)>& then);

/// Calls `then` once the caller of `req` is authenticated (auth off: at
/// once); answers 401 and 503 itself.
void with_caller(http_handler_self self, const http_request& req,
                 const responder_ptr& rp, const std::function<void()>& then);

/// Core Events, which an object's related Events are.
resource_type core_events_type();

} // namespace kws
