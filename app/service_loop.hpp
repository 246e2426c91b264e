// What a server and a hub do alike once their actors run: serve HTTP, reload
// the configuration, and stop cleanly on a signal.
#pragma once

#include "actors/interfaces.hpp"
#include "app/options.hpp"
#include "config/settings.hpp"
#include "rest/server.hpp"
#include "rest/tls_source.hpp"

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <csignal>
#include <memory>
#include <vector>

namespace kws::app {

/// Blocks SIGTERM, SIGINT and SIGHUP (reload) in every thread; the service
/// loop waits for them.
sigset_t block_shutdown_signals();

/// The REST listener's certificate (`tls`), null when it serves plain HTTP;
/// errors name the key.
caf::expected<std::shared_ptr<rest::tls_source>>
load_tls(const config::settings& settings);

/// The HTTP servers a service runs. The caller declares them before its
/// actor system, so that they outlive every actor: an answer an actor still
/// holds when the service stops goes back to a connection whose server (its
/// connection book, its answer budget, its io_context) is still there,
/// stopped, when that actor lets go of it.
using http_servers = std::vector<std::unique_ptr<rest::server>>;

/// Serves `sup`'s relay on the API port (and the admin and probe ports the
/// settings name) through servers added to `servers`, reloads the
/// configuration when its file changes or on SIGHUP, and on SIGTERM or
/// SIGINT (or when `sup` stops by itself) stops the servers and `sup`,
/// waiting for it. `signals` are blocked in every thread. Returns the
/// process's exit code; the servers are stopped then, not destroyed.
int serve_until_signal(caf::actor_system& sys, http_servers& servers,
                       const supervisor_actor& sup,
                       const config::settings& settings,
                       const std::shared_ptr<rest::tls_source>& tls,
                       const options& opts, sigset_t signals);

} // namespace kws::app
