// k8s-watch-server: load the configuration, open the store, connect to the
// cluster, start the actors, serve HTTP, and shut down cleanly on a signal.
#include "actors/discovery.hpp"
#include "actors/register.hpp"
#include "actors/scheduler.hpp"
#include "actors/supervisor.hpp"
#include "app/kafka_export.hpp"
#include "app/listeners.hpp"
#include "app/logging.hpp"
#include "app/mcp_hosts.hpp"
#include "app/options.hpp"
#include "app/readiness_feed.hpp"
#include "app/reload.hpp"
#include "config/load.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "rest/server.hpp"
#include "rest/ui_bundle.hpp"
#include "storage/rocks_store.hpp"
#include "util/logging.hpp"
#include "util/process_memory.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <csignal>
#include <iostream>
#include <optional>
#include <thread>

namespace {

using namespace kws;

int fail(const std::string& what) {
  KWS_ERROR("{}", what);
  return 1;
}

/// Blocks SIGTERM, SIGINT and SIGHUP (reload) in every thread; main()
/// waits for them.
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int serve(const app::options& opts) {
  process_memory::limit_arenas(process_memory::service_arenas);
  auto signals = block_shutdown_signals();
  auto settings = config::load(opts.config_path, config::process_env());
  if (!settings)
    return fail("invalid configuration: " + error_detail(settings.error()));
  app::use_log_format(settings->log_format);
  KWS_INFO("k8s-watch-server {} using configuration from {}", KWS_VERSION,
           settings->source);
  std::shared_ptr<rest::tls_source> tls;
  if (settings->tls.enabled()) {
    auto loaded
      = rest::tls_source::load({settings->tls.cert_file, settings->tls.key_file,
                                settings->auth.mode == config::auth_mode::proxy
                                  ? settings->auth.proxy.client_ca_file
                                  : std::string{}});
    if (!loaded)
      return fail("invalid configuration: " + error_detail(loaded.error()));
    tls = std::move(*loaded);
  }
  std::optional<app::kafka_export> exported;
  if (settings->kafka_export.enabled()) {
    auto made = app::make_kafka_export(settings->kafka_export);
    if (!made)
      return fail("invalid configuration: " + error_detail(made.error()));
    exported = std::move(*made);
  }
  auto cluster = kube::load_default(opts.kubeconfig);
  if (!cluster)
    return fail("cannot configure the Kubernetes client: "
                + render(cluster.error()));
  auto client = kube::client::make(std::move(*cluster));
  if (!client)
    return fail("cannot create the Kubernetes client: "
                + render(client.error()));
  storage::store_options store_opts;
  store_opts.path = settings->storage_path;
  store_opts.read_threads = settings->read_threads;
  auto store = storage::rocks_store::open(store_opts);
  if (!store)
    return fail("cannot open the store at " + settings->storage_path + ": "
                + render(store.error()));
  auto shared_store = std::make_shared<storage::rocks_store>(std::move(*store));
  supervisor_config scfg;
  scfg.storage.batch_size = settings->batch_size;
  scfg.storage.retention_days = settings->retention_days;
  scfg.discovery.watch = config::watch_part(*settings);
  auto digest_key = shared_store->secret_digest_key();
  if (!digest_key)
    return fail("cannot read the key of Secret digests: "
                + render(digest_key.error()));
  scfg.discovery.secret_digest_key = std::move(*digest_key);
  if (auto stored = stored_types(*shared_store))
    scfg.discovery.stored = std::move(*stored);
  else
    KWS_WARN("cannot list the resource types in the store, types no longer "
             "served will not resolve by name: {}",
             stored.error());
  scfg.http.max_query_limit = settings->max_query_limit;
  scfg.http.backup_root = settings->backup_root;
  scfg.http.mcp.version = KWS_VERSION;
  scfg.http.mcp.allowed_hosts = app::service_host_names();
  scfg.http.mcp.allowed_origins = app::allowed_origins();
  scfg.query_workers = settings->query_workers;
  if (exported) {
    scfg.exporter = std::move(exported->config);
    scfg.export_to = std::move(exported->send);
  }
  std::shared_ptr<kube::client> access_client;
  if (settings->auth.mode != config::auth_mode::none) {
    // Its own connections: reviews never wait behind the watchers' lists.
    auto made = kube::client::make(client->get()->config());
    if (!made)
      return fail("cannot create the Kubernetes client for access reviews: "
                  + render(made.error()));
    access_client = std::move(*made);
    scfg.access_client = access_client;
    scfg.access.audiences = settings->auth.audiences;
    scfg.access.ttl = std::chrono::seconds{settings->auth.cache_seconds};
    scfg.access.failure_ttl
      = std::chrono::seconds{settings->auth.failure_cache_seconds};
  }
  int exit_code = 0;
  {
    caf::actor_system_config cfg;
    add_actor_types(cfg);
    tune_scheduler(cfg);
    caf::actor_system sys{cfg};
    auto sup = sys.spawn(supervisor, scfg, shared_store, *client);
    caf::scoped_actor self{sys};
    http_relay_actor relay;
    self->request(sup, std::chrono::seconds{10}, atom::get_v)
      .receive([&](http_relay_actor& hdl) { relay = std::move(hdl); },
               [&](caf::error& err) {
                 exit_code = fail("cannot start the actors: " + render(err));
               });
    if (exit_code != 0)
      return exit_code;
    rest::server_options sopts;
    sopts.address = settings->listen_address;
    sopts.port = settings->server_port;
    sopts.site = ui_bundle();
    sopts.tls = tls;
    if (settings->auth.mode == config::auth_mode::proxy) {
      const auto& p = settings->auth.proxy;
      sopts.proxy
        = rest::proxy_trust{p.allowed_names, p.username_headers,
                            p.group_headers, p.extra_headers_prefixes};
    }
    if (settings->access_log)
      sopts.on_access = app::access_log(settings->log_format);
    // Declared before the server, so that it outlives the server's threads.
    app::readiness_feed ready_feed{sys, sup};
    sopts.readiness = [&ready_feed] { return ready_feed.current(); };
    sopts.paths = rest::listener_paths::api;
    sopts.answers.bytes = size_t{settings->answer_buffer_mib} << 20U;
    auto to_relay = [relay](http_request req, responder_ptr rp) {
      caf::anon_send(relay, std::move(req), std::move(rp));
    };
    auto srv = rest::server::start(sopts, to_relay);
    if (!srv) {
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
      return fail("cannot serve HTTP: " + render(srv.error()));
    }
    KWS_INFO("Starting HTTP server on port {} ({}, auth.mode {})",
             (*srv)->port(), tls ? "HTTPS" : "plain HTTP",
             config::auth_mode_name(settings->auth.mode));
    // The admin endpoints on a port of their own, reachable only from inside
    // the pod: not through the Service, nor through a proxy in front of the
    // API that connects over loopback.
    std::unique_ptr<rest::server> admin_srv;
    if (settings->admin_port != 0) {
      auto aopts = app::admin_listener(settings->admin_port, sopts.on_access);
      auto started = rest::server::start(aopts, to_relay);
      if (!started) {
        caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
        return fail("cannot serve the admin port: " + render(started.error()));
      }
      admin_srv = std::move(*started);
      KWS_INFO("Admin endpoints on 127.0.0.1:{}", admin_srv->port());
    }
    std::unique_ptr<rest::server> probe_srv;
    if (settings->probe_port != 0) {
      auto started = rest::server::start(
        app::probe_listener(sopts, settings->probe_port), to_relay);
      if (!started) {
        caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
        return fail("cannot serve the probe port: " + render(started.error()));
      }
      probe_srv = std::move(*started);
      KWS_INFO("Probes on port {}", probe_srv->port());
    }
    // Wake up on a signal, or when the supervisor stops on its own.
    std::atomic<bool> sup_down{false};
    sup->attach_functor([&sup_down] {
      sup_down = true;
      ::kill(::getpid(), SIGTERM);
    });
    app::config_reloader reloader{
      config::resolve_path(opts.config_path, config::process_env()),
      config::process_env(), *settings};
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
                   KWS_ERROR("cannot apply the reloaded configuration: {}",
                             err);
                 });
    }
    if (sup_down) {
      exit_code = 1;
      KWS_ERROR("the supervisor stopped, shutting down");
    } else {
      KWS_INFO("received signal {}, shutting down", sig);
      (*srv)->stop();
      if (admin_srv)
        admin_srv->stop();
      if (probe_srv)
        probe_srv->stop();
      // Longer than the supervisor gives STORAGE's final flush (10 s), so
      // that its own answer, done or failed, arrives first.
      self->request(sup, std::chrono::seconds{15}, atom::stop_v)
        .receive([](atom::ok) {},
                 [&](caf::error& err) {
                   KWS_ERROR("shutdown flush failed: {}", err);
                   exit_code = 1;
                 });
    }
    (*srv)->stop();
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    self->wait_for(sup);
  }
  // Only now: the actor system's end waited for every watcher, whose
  // reflectors' stops still needed the client's io thread to close their
  // streams (stopped earlier, those would keep each other alive).
  client->get()->stop();
  if (access_client)
    access_client->stop();
  return exit_code;
}

} // namespace

int main(int argc, char** argv) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v",
                      spdlog::pattern_time_type::utc);
  auto opts = kws::app::parse_options(argc, argv);
  if (!opts) {
    std::cerr << "k8s-watch-server: " << kws::error_detail(opts.error()) << "\n"
              << kws::app::usage;
    return 2;
  }
  switch (opts->command) {
    case kws::app::mode::help: std::cout << kws::app::usage; return 0;
    case kws::app::mode::version:
      std::cout << "k8s-watch-server " << KWS_VERSION << "\n";
      return 0;
    case kws::app::mode::probe: return kws::app::run_probe(argc, argv);
    case kws::app::mode::backup: return kws::app::run_backup(*opts);
    case kws::app::mode::restore: return kws::app::run_restore(*opts);
    case kws::app::mode::mcp: return kws::app::run_mcp_stdio(*opts);
    case kws::app::mode::serve: break;
  }
  if (opts->verbose)
    spdlog::set_level(spdlog::level::debug);
  return serve(*opts);
}
