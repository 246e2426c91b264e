#include "app/service_loop.hpp"

#include "app/listeners.hpp"
#include "app/logging.hpp"
#include "app/readiness_feed.hpp"
#include "app/reload.hpp"
#include "config/load.hpp"
#include "rest/server.hpp"
#include "rest/ui_bundle.hpp"
#include "util/logging.hpp"

#include <caf/scoped_actor.hpp>
#include <unistd.h>

#include <atomic>

namespace kws::app {

namespace {

int fail(const std::string& what) {
  KWS_ERROR("{}", what);
  return 1;
}

} // namespace

sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

caf::expected<std::shared_ptr<rest::tls_source>>
load_tls(const config::settings& settings) {
  if (!settings.tls.enabled())
    return std::shared_ptr<rest::tls_source>{};
  return rest::tls_source::load({settings.tls.cert_file, settings.tls.key_file,
                                 settings.auth.mode == config::auth_mode::proxy
                                   ? settings.auth.proxy.client_ca_file
                                   : std::string{}});
}

namespace {

/// What `serve_until_signal` serves with: its relay, readiness and settings.
struct service_parts {
  const supervisor_actor& sup;
  http_relay_actor relay;
  app::readiness_feed& ready_feed;
  const config::settings& settings;
  const std::shared_ptr<rest::tls_source>& tls;
  const options& opts;
};

/// `serve_until_signal` once the relay is known: starts the servers into
/// `servers`, then waits for a signal.
int run_servers(caf::scoped_actor& self, http_servers& servers,
                const service_parts& parts, sigset_t signals) {
  const auto& sup = parts.sup;
  const auto& settings = parts.settings;
  const auto& tls = parts.tls;
  int exit_code = 0;
  rest::server_options sopts;
  sopts.address = settings.listen_address;
  sopts.port = settings.server_port;
  sopts.site = ui_bundle();
  sopts.tls = tls;
  if (settings.auth.mode == config::auth_mode::proxy) {
    const auto& p = settings.auth.proxy;
    sopts.proxy = rest::proxy_trust{p.allowed_names, p.username_headers,
                                    p.group_headers, p.extra_headers_prefixes};
  }
  if (settings.access_log)
    sopts.on_access = app::access_log(settings.log_format);
  sopts.readiness = [&feed = parts.ready_feed] { return feed.current(); };
  sopts.paths = rest::listener_paths::api;
  sopts.answers.bytes = size_t{settings.answer_buffer_mib} << 20U;
  auto to_relay = [relay = parts.relay](http_request req, responder_ptr rp) {
    caf::anon_send(relay, std::move(req), std::move(rp));
  };
  auto srv = rest::server::start(sopts, to_relay);
  if (!srv) {
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    return fail("cannot serve HTTP: " + render(srv.error()));
  }
  servers.push_back(std::move(*srv));
  auto& api_srv = *servers.back();
  KWS_INFO("Starting HTTP server on port {} ({}, auth.mode {})", api_srv.port(),
           tls ? "HTTPS" : "plain HTTP",
           config::auth_mode_name(settings.auth.mode));
  // The admin endpoints on a port of their own, reachable only from inside
  // the pod: not through the Service, nor through a proxy in front of the
  // API that connects over loopback.
  if (settings.admin_port != 0) {
    auto aopts = app::admin_listener(settings.admin_port, sopts.on_access);
    auto started = rest::server::start(aopts, to_relay);
    if (!started) {
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
      return fail("cannot serve the admin port: " + render(started.error()));
    }
    KWS_INFO("Admin endpoints on 127.0.0.1:{}", (*started)->port());
    servers.push_back(std::move(*started));
  }
  if (settings.probe_port != 0) {
    auto started = rest::server::start(
      app::probe_listener(sopts, settings.probe_port), to_relay);
    if (!started) {
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
      return fail("cannot serve the probe port: " + render(started.error()));
    }
    KWS_INFO("Probes on port {}", (*started)->port());
    servers.push_back(std::move(*started));
  }
  // Wake up on a signal, or when the supervisor stops on its own.
  std::atomic<bool> sup_down{false};
  sup->attach_functor([&sup_down] {
    sup_down = true;
    ::kill(::getpid(), SIGTERM);
  });
  app::config_reloader reloader{
    config::resolve_path(parts.opts.config_path, config::process_env()),
    config::process_env(), settings};
  int sig = 0;
  while (true) {
    // The file is looked at every two seconds; SIGHUP reloads at once.
    timespec poll{2, 0};
    sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig > 0 && sig != SIGHUP)
      break;
    if (sig != SIGHUP && !reloader.changed())
      continue;
    auto next = reloader.reload();
    if (!next)
      continue;
    self->request(sup, std::chrono::seconds{10}, std::move(*next))
      .receive([](atom::ok) {},
               [](caf::error& err) {
                 KWS_ERROR("cannot apply the reloaded configuration: {}", err);
               });
  }
  if (sup_down) {
    exit_code = 1;
    KWS_ERROR("the supervisor stopped, shutting down");
  } else {
    KWS_INFO("received signal {}, shutting down", sig);
    for (auto& srv : servers)
      srv->stop();
    // Longer than the supervisor gives STORAGE's final flush (10 s), so
    // that its own answer, done or failed, arrives first.
    self->request(sup, std::chrono::seconds{15}, atom::stop_v)
      .receive([](atom::ok) {},
               [&](caf::error& err) {
                 KWS_ERROR("shutdown flush failed: {}", err);
                 exit_code = 1;
               });
  }
  for (auto& srv : servers)
    srv->stop();
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  self->wait_for(sup);
  return exit_code;
}

} // namespace

int serve_until_signal(caf::actor_system& sys, http_servers& servers,
                       const supervisor_actor& sup,
                       const config::settings& settings,
                       const std::shared_ptr<rest::tls_source>& tls,
                       const options& opts, sigset_t signals) {
  int exit_code = 0;
  caf::scoped_actor self{sys};
  http_relay_actor relay;
  self->request(sup, std::chrono::seconds{10}, atom::get_v)
    .receive([&](http_relay_actor& hdl) { relay = std::move(hdl); },
             [&](caf::error& err) {
               exit_code = fail("cannot start the actors: " + render(err));
             });
  if (exit_code != 0)
    return exit_code;
  app::readiness_feed ready_feed{sys, sup};
  exit_code = run_servers(
    self, servers, service_parts{sup, relay, ready_feed, settings, tls, opts},
    signals);
  // Their io threads ask the feed: stopped on every way out, before it goes.
  for (auto& srv : servers)
    srv->stop();
  return exit_code;
}

} // namespace kws::app
