// `k8s-watch-server probe`: an operator's check of connectivity,
// credentials, discovery and one watch. Prints every discovered resource
// type (group/version, kind, plural, namespaced), then, with `--watch`, one
// line per event for N seconds: type, namespace/name, resourceVersion. The
// watch runs the service's own reflector in a small actor system.
#include "actors/reflector_actor.hpp"
#include "actors/register.hpp"
#include "app/options.hpp"
#include "kube/client.hpp"
#include "kube/client_lister_watcher.hpp"
#include "kube/discovery.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/resolver.hpp"
#include "kube/wire.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace kws::app {

using namespace kws::kube;

namespace {

struct probe_flags {
  std::string kubeconfig;
  std::string context;
  std::string watch;
  int seconds = 10;
};

void usage() {
  std::fputs("usage: k8s-watch-server probe [--kubeconfig PATH] "
             "[--context NAME] [--watch RESOURCE] [--seconds N]\n",
             stderr);
}

/// Returns flags, or an exit code on bad input / --help.
std::variant<probe_flags, int> parse_flags(int argc, char** argv) {
  probe_flags result;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg{argv[i]};
    auto value = [&](std::string_view name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "probe: %.*s needs a value\n",
                     static_cast<int>(name.size()), name.data());
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    }
    if (arg == "--kubeconfig") {
      if ((v = value(arg)) == nullptr)
        return 2;
      result.kubeconfig = v;
    } else if (arg == "--context") {
      if ((v = value(arg)) == nullptr)
        return 2;
      result.context = v;
    } else if (arg == "--watch") {
      if ((v = value(arg)) == nullptr)
        return 2;
      result.watch = v;
    } else if (arg == "--seconds") {
      if ((v = value(arg)) == nullptr)
        return 2;
      try {
        result.seconds = std::stoi(v);
      } catch (const std::exception&) {
        result.seconds = -1;
      }
      if (result.seconds < 0) {
        std::fprintf(stderr, "probe: --seconds needs a number >= 0, got %s\n",
                     v);
        return 2;
      }
    } else {
      std::fprintf(stderr, "probe: unknown argument %s\n", argv[i]);
      usage();
      return 2;
    }
  }
  return result;
}

/// A one-shot result slot for waiting on an async callback.
template <class T>
struct slot {
  std::mutex mtx;
  std::condition_variable cv;
  std::optional<T> value;

  void set(T x) {
    std::lock_guard guard{mtx};
    value = std::move(x);
    cv.notify_all();
  }

  std::optional<T> wait_for(std::chrono::seconds timeout) {
    std::unique_lock guard{mtx};
    cv.wait_for(guard, timeout, [&] { return value.has_value(); });
    return std::move(value);
  }
};

} // namespace

int run_probe(int argc, char** argv) {
  // argv[1] is "probe"; the flags follow.
  auto parsed = parse_flags(argc - 1, argv + 1);
  if (auto* code = std::get_if<int>(&parsed))
    return *code;
  auto flags = std::get<probe_flags>(parsed);
  caf::expected<cluster_config> cfg{caf::error{}};
  if (!flags.context.empty())
    cfg = load_kubeconfig(flags.kubeconfig, flags.context);
  else
    cfg = load_default(flags.kubeconfig);
  if (!cfg) {
    std::fprintf(stderr, "probe: %s\n", render(cfg.error()).c_str());
    return 1;
  }
  std::printf("server %s (%s)\n", cfg->server.c_str(), cfg->source.c_str());
  auto c = client::make(*cfg);
  if (!c) {
    std::fprintf(stderr, "probe: %s\n", render(c.error()).c_str());
    return 1;
  }
  auto cl = *c;
  slot<caf::expected<std::vector<api_resource_info>>> found;
  discover_api_resources(cl, [&](auto res) { found.set(std::move(res)); });
  auto infos = found.wait_for(std::chrono::seconds{60});
  if (!infos) {
    std::fprintf(stderr, "probe: discovery did not finish within 60s\n");
    cl->stop();
    return 1;
  }
  if (!*infos) {
    std::fprintf(stderr, "probe: discovery failed: %s\n",
                 render(infos->error()).c_str());
    cl->stop();
    return 1;
  }
  auto watchable = select_watchable(**infos);
  std::printf("%-40s %-32s %-40s %s\n", "GROUP/VERSION", "KIND", "PLURAL",
              "NAMESPACED");
  for (const auto& t : watchable)
    std::printf("%-40s %-32s %-40s %s\n", t.api_version().c_str(),
                t.kind.c_str(), t.plural.c_str(),
                t.namespaced ? "true" : "false");
  std::printf("%zu watchable resource types\n", watchable.size());
  std::fflush(stdout);
  if (flags.watch.empty()) {
    cl->stop();
    return 0;
  }
  resource_resolver resolver{std::move(**infos)};
  auto type = resolver.resolve(flags.watch);
  if (!type) {
    std::fprintf(stderr, "probe: %s\n", render(type.error()).c_str());
    cl->stop();
    return 1;
  }
  std::printf("watching %s for %d s\n", type->group_resource().c_str(),
              flags.seconds);
  std::fflush(stdout);
  reflector_handlers handlers;
  handlers.on_list = [](const list_result& res) {
    std::printf("LIST %zu items at resourceVersion %s\n", res.items.size(),
                res.resource_version.c_str());
    std::fflush(stdout);
  };
  handlers.on_events = [](const std::vector<watch_event>& events, int64_t) {
    for (const auto& ev : events) {
      auto meta = parse_object_meta(ev.object);
      auto key = meta ? meta->key() : std::string{"?"};
      std::printf("%-8s %s %s\n", to_string(ev.type).c_str(),
                  ev.type == watch_event_type::bookmark ? "-" : key.c_str(),
                  ev.resource_version.c_str());
    }
    std::fflush(stdout);
  };
  handlers.on_error = [](const caf::error& err) {
    std::fprintf(stderr, "error: %s\n", render(err).c_str());
  };
  {
    caf::actor_system_config sys_cfg;
    add_actor_types(sys_cfg);
    caf::actor_system sys{sys_cfg};
    auto r = sys.spawn(
      reflector_actor, make_client_lister_watcher(cl, *type, selection{}),
      *type, reflector_settings{}, std::move(handlers), true, std::string{});
    slot<bool> never;
    never.wait_for(std::chrono::seconds{flags.seconds});
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  }
  cl->stop();
  return 0;
}

} // namespace kws::app
