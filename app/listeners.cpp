#include "app/listeners.hpp"

#include <chrono>
#include <utility>

namespace kws::app {

rest::server_options
admin_listener(uint16_t port,
               std::function<void(const rest::access_entry&)> on_access) {
  rest::server_options opts;
  opts.address = "127.0.0.1";
  opts.port = port;
  opts.paths = rest::listener_paths::admin;
  opts.max_connections = 8;
  opts.max_connections_per_client = 8;
  opts.probe_reserve = 0;
  opts.mcp_path.clear();
  // A checkpoint of a large store can take longer than a query.
  opts.handler_timeout = std::chrono::minutes{10};
  opts.on_access = std::move(on_access);
  return opts;
}

rest::server_options probe_listener(const rest::server_options& api,
                                    uint16_t port) {
  rest::server_options opts;
  opts.address = api.address;
  opts.port = port;
  opts.tls = api.tls;
  opts.readiness = api.readiness;
  opts.on_access = api.on_access;
  opts.paths = rest::listener_paths::probes;
  // The kubelet opens a connection per probe; a few suffice, and one
  // client flooding this port cannot take the kubelet's.
  opts.max_connections = 64;
  opts.max_connections_per_client = 8;
  opts.probe_reserve = 0;
  opts.mcp_path.clear();
  return opts;
}

} // namespace kws::app
