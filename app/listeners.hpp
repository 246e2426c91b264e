// The listeners beside the API's port: the loopback admin port and the port
// that serves only the kubelet's probes.
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

/// Options of the probe listener on `api`'s address and TLS, port `port`:
/// only `/health`, `/healthz`, `/livez` and `/readyz`, answered on a thread
/// of its own, so that a busy API port never delays them.
rest::server_options probe_listener(const rest::server_options& api,
                                    uint16_t port);

} // namespace kws::app
