// The server side of the operator commands: the loopback listener the admin
// endpoints are served on.
#pragma once

#include "rest/server.hpp"

#include <cstdint>
#include <functional>

namespace kws::app {

/// Options of the admin listener on 127.0.0.1:`port`: plain HTTP, only the
/// admin paths, a handful of connections (one operator command at a time).
rest::server_options
admin_listener(uint16_t port,
               std::function<void(const rest::access_entry&)> on_access);

} // namespace kws::app
