// DISCOVERY runs API discovery at start, every `refresh_interval`, and after
// a failure with backoff. With `discover_crds` it also runs a reflector over
// CustomResourceDefinitions: an Established CRD joins the watched set, a
// deleted one leaves it (its history stays in storage). After each change it
// reconciles: watchers for new types are spawned (monitored), watchers of
// vanished types are stopped. A watcher that goes down unasked is restarted
// after a backoff; the others keep running. A reloaded configuration
// (`watch_settings`) reconciles the same way, and restarts the watchers whose
// filter or options changed. Readiness is "discovery ran and every watcher
// finished its first list or reported why it cannot".
#include "actors/discovery.hpp"

#include "actors/watcher.hpp"
#include "actors/weak_handle.hpp"
#include "kube/api_source.hpp"
#include "kube/discovery.hpp"
#include "kube/resolver.hpp"
#include "storage/rocks_store.hpp"
#include "util/ascii_case.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"

#include <caf/stateful_actor.hpp>
#include <rapidjson/document.h>

#include <algorithm>
#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<discovery_state>);

namespace {

const resource_type crd_type{"apiextensions.k8s.io", "v1",
                             "CustomResourceDefinition",
                             "customresourcedefinitions", false};

} // namespace

caf::expected<std::vector<resource_type>>
stored_types(const storage::rocks_store& store) {
  auto checkpoints = store.checkpoints();
  if (!checkpoints)
    return checkpoints.error();
  std::vector<resource_type> result;
  for (auto& [key, rv] : *checkpoints) {
    resource_type rt;
    auto dot = key.find('.');
    rt.plural = key.substr(0, dot);
    rt.group = dot == std::string::npos ? "" : key.substr(dot + 1);
    event_query q;
    q.resource = rt.plural;
    q.group = rt.group;
    q.descending = true;
    // Core types share plurals with other groups (events), and an empty
    // group does not narrow: look at a few records for the right group.
    q.limit = 20;
    auto page = store.query(q);
    if (!page)
      return page.error();
    for (auto& json : page->records) {
      rapidjson::Document doc;
      doc.Parse(json.c_str());
      if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("kind")
          || !doc["kind"].IsString() || !doc.HasMember("apiVersion")
          || !doc["apiVersion"].IsString() || !doc.HasMember("namespace")
          || !doc["namespace"].IsString())
        continue;
      std::string api_version = doc["apiVersion"].GetString();
      auto slash = api_version.find('/');
      auto group
        = slash == std::string::npos ? "" : api_version.substr(0, slash);
      if (group != rt.group)
        continue;
      rt.version = slash == std::string::npos ? api_version
                                              : api_version.substr(slash + 1);
      rt.kind = doc["kind"].GetString();
      rt.namespaced = doc["namespace"].GetStringLength() > 0;
      result.push_back(std::move(rt));
      break;
    }
  }
  return result;
}

std::chrono::milliseconds discovery_state::backoff(uint32_t n) const {
  auto result = config.initial_backoff;
  for (uint32_t i = 1; i < n && result < config.max_backoff; ++i)
    result *= 2;
  return std::min(result, config.max_backoff);
}

void discovery_state::run_discovery() {
  api->discover([weak = weak_handle<discovery_actor>{self}](
                  caf::expected<std::vector<api_resource>> res) {
    if (!res)
      weak.send(atom::internal_v, atom::failed_v, res.error());
    else
      weak.send(atom::internal_v, std::move(*res));
  });
}

void discovery_state::spawn_watcher(const resource_type& rt, bool relist) {
  watcher_config wcfg;
  wcfg.type = rt;
  wcfg.digest_secret_values = config.watch.digest_secret_values;
  wcfg.secret_digest_key = config.secret_digest_key;
  wcfg.max_lag = std::chrono::milliseconds{config.watch.max_watch_lag_ms};
  wcfg.filter = config.watch.filters.for_type(rt);
  wcfg.relist = relist;
  auto filter = wcfg.filter;
  wcfg.reflector.seed = std::hash<std::string>{}(rt.group_resource());
  // An invalid filter (DISCOVERY validated it) stops the watcher itself.
  std::shared_ptr<kube::lister_watcher> source;
  if (auto sel = kube::make_selection(rt, filter); sel && api)
    source = api->lister_watcher_for(rt, *sel);
  // Events go through the correlator, everything else straight to storage.
  ingest_sink_actor sink = rt.plural == "events"
    ? caf::actor_cast<ingest_sink_actor>(correlator)
    : caf::actor_cast<ingest_sink_actor>(storage);
  auto hdl = self->spawn<caf::monitored>(
    watcher, std::move(wcfg), std::move(source), sink, storage,
    caf::actor_cast<discovery_actor>(self));
  auto& e = watchers[rt.group_resource()];
  e.type = rt;
  e.handle = hdl;
  e.status.type = rt;
  e.status.synced = false;
  e.status.filter = filter;
  e.filter = std::move(filter);
  e.digest_secret_values = config.watch.digest_secret_values;
  e.max_watch_lag_ms = config.watch.max_watch_lag_ms;
}

void discovery_state::stop_watcher(const std::string& key) {
  auto i = watchers.find(key);
  if (i == watchers.end())
    return;
  if (i->second.handle) {
    self->demonitor(i->second.handle.address());
    self->send_exit(i->second.handle, caf::exit_reason::user_shutdown);
  }
  watchers.erase(i);
}

void discovery_state::start_crd_reflector() {
  reflector_handlers handlers;
  handlers.on_list = [this](const list_result& list) {
    crds.clear();
    for (const auto& item : list.items)
      apply_crd(item, false);
    if (discovered_once)
      reconcile();
    crd_reflector->ack();
  };
  handlers.on_events = [this](const std::vector<watch_event>& events, int64_t) {
    for (const auto& ev : events)
      if (ev.type != watch_event_type::bookmark)
        apply_crd(ev.object, ev.type == watch_event_type::deleted);
    if (discovered_once)
      reconcile();
    crd_reflector->ack();
  };
  handlers.on_error = [](const caf::error& err) {
    KWS_WARN("discovery cannot watch CustomResourceDefinitions: {}", err);
  };
  crd_reflector = std::make_unique<reflector_driver>(
    self, api->lister_watcher_for(crd_type, {}), crd_type,
    kube::reflector_settings{}, std::move(handlers));
  crd_reflector->start("");
}

void discovery_state::apply(watch_settings next) {
  bool crds_on = !config.watch.discover_crds && next.discover_crds;
  bool crds_off = config.watch.discover_crds && !next.discover_crds;
  config.watch = std::move(next);
  if (crds_off && crd_reflector) {
    crd_reflector.reset();
    crds.clear();
  }
  if (crds_on && api)
    start_crd_reflector();
  if (discovered_once)
    reconcile();
}

void discovery_state::reconcile() {
  auto wanted
    = select_watched(config.watch.resources, discovered, crds,
                     config.watch.watch_all, config.watch.discover_crds);
  std::map<std::string, resource_type> want;
  for (auto& rt : wanted)
    want.emplace(rt.group_resource(), rt);
  for (auto i = watchers.begin(); i != watchers.end();) {
    if (want.contains(i->first)) {
      ++i;
      continue;
    }
    KWS_INFO("Stopped watching {}/{} ({})", i->second.type.group,
             i->second.type.version, i->second.type.kind);
    retired[i->first] = i->second.type;
    auto key = (i++)->first;
    stop_watcher(key);
  }
  for (auto& [key, rt] : want) {
    retired.erase(key);
    auto i = watchers.find(key);
    if (i == watchers.end()) {
      spawn_watcher(rt);
      continue;
    }
    // A reload changed how the type is watched: start over from the
    // checkpoint (with a list when what is selected changed).
    auto filter = config.watch.filters.for_type(rt);
    bool refiltered = filter != i->second.filter;
    if (!refiltered
        && i->second.digest_secret_values == config.watch.digest_secret_values
        && i->second.max_watch_lag_ms == config.watch.max_watch_lag_ms)
      continue;
    KWS_INFO("Restarting the watcher of {} with its new configuration", key);
    auto restarts = i->second.status.restarts;
    stop_watcher(key);
    spawn_watcher(rt, refiltered);
    watchers[key].status.restarts = restarts;
  }
  static auto& num_watchers
    = metrics::get_gauge("kws_watchers", "Resource types being watched.");
  num_watchers.set(static_cast<int64_t>(watchers.size()));
  // The correlator maps Event targets through every known kind; clients'
  // resourceType parameters go through the resolver.
  std::vector<resource_type> known;
  auto infos = discovered;
  for (auto& r : discovered)
    if (r.preferred)
      known.push_back(r.type);
  for (auto& [name, rt] : crds) {
    known.push_back(rt);
    api_resource info;
    info.type = rt;
    info.verbs = {"list", "watch"};
    info.preferred = true;
    infos.push_back(std::move(info));
  }
  resolver = std::make_shared<kube::resource_resolver>(std::move(infos));
  self->send(correlator, std::move(known));
  publish_catalog();
}

kube::type_catalog_ptr discovery_state::catalog() const {
  auto out = std::make_shared<kube::type_catalog>();
  out->resolver = resolver;
  out->retired = retired;
  for (const auto& [key, e] : watchers)
    out->watched.push_back(e.type);
  return out;
}

void discovery_state::publish_catalog() {
  if (catalog_sinks.empty())
    return;
  auto current = catalog();
  for (const auto& sink : catalog_sinks)
    self->send(sink, current);
}

void discovery_state::apply_crd(const std::string& json, bool deleted) {
  auto crd = parse_crd(json);
  if (!crd) {
    KWS_WARN("discovery skipped a malformed CustomResourceDefinition: {}",
             crd.error());
    return;
  }
  if (deleted || !crd->type)
    crds.erase(crd->name);
  else
    crds[crd->name] = *crd->type;
}

readiness discovery_state::current_readiness() const {
  readiness result;
  result.ready = discovered_once;
  for (auto& [key, e] : watchers) {
    result.watchers.push_back(e.status);
    // A type that keeps failing (forbidden, gone) is retried and reported,
    // but must not hold back the types that work.
    if (!e.status.synced && !e.status.refused)
      result.ready = false;
    result.degraded |= e.status.behind;
  }
  return result;
}

discovery_actor::behavior_type
discovery(discovery_actor::stateful_pointer<discovery_state> self,
          discovery_config cfg, std::shared_ptr<kube::api_source> api,
          storage_actor storage, correlator_actor correlator) {
  auto& st = self->state;
  st.config = std::move(cfg);
  st.api = std::move(api);
  st.storage = std::move(storage);
  st.correlator = std::move(correlator);
  // History outlives a restart: a type the apiserver no longer serves still
  // resolves by the names it had. Watched types resolve through discovery.
  for (auto& rt : st.config.stored)
    st.retired.emplace(rt.group_resource(), rt);
  // Watchers are monitored, not linked (one failing must not stop the
  // others), so they are stopped explicitly.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    for (auto& [key, e] : self->state.watchers)
      if (e.handle)
        self->send_exit(e.handle, msg.reason);
    self->state.watchers.clear();
    self->quit(msg.reason);
  });
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    for (auto& [key, e] : st.watchers) {
      if (e.handle.address() != msg.source)
        continue;
      ++e.crashes;
      e.handle = nullptr;
      e.status.synced = false;
      e.status.last_error = "watcher stopped: " + render(msg.reason);
      ++e.status.restarts;
      auto delay = st.backoff(e.crashes);
      KWS_WARN("discovery restarts the watcher of {} in {} ms: {}", key,
               delay.count(), msg.reason);
      self->delayed_send(self, delay, atom::internal_v, atom::start_v, key);
      return;
    }
  });
  st.run_discovery();
  if (st.config.watch.discover_crds && st.api)
    st.start_crd_reflector();
  return {
    // From main(): the configuration was reloaded.
    [self](watch_settings& next) {
      self->state.apply(std::move(next));
      return atom::ok_v;
    },
    // Readiness and per-watcher status.
    [self](atom::status) { return self->state.current_readiness(); },
    // Resolves a resourceType parameter.
    [self](atom::resolve,
           const std::string& name) -> caf::result<resource_type> {
      auto& st = self->state;
      kube::type_catalog now{st.resolver, st.retired, {}};
      auto result = now.resolve(name);
      if (!result)
        return result.error();
      return std::move(*result);
    },
    // Where type catalogs go from now on.
    [self](atom::add, catalog_sink_actor& sink) {
      self->send(sink, self->state.catalog());
      self->state.catalog_sinks.push_back(std::move(sink));
    },
    // A watcher's status changed.
    [self](watcher_status& status) {
      auto& st = self->state;
      auto i = st.watchers.find(status.type.group_resource());
      if (i == st.watchers.end())
        return;
      if (status.synced && !i->second.status.synced)
        i->second.crashes = 0;
      auto restarts = i->second.status.restarts;
      i->second.status = std::move(status);
      i->second.status.restarts = std::max(restarts, i->second.status.restarts);
      i->second.status.filter = i->second.filter;
      auto r = st.current_readiness();
      if (r.ready && !st.synced_logged) {
        st.synced_logged = true;
        KWS_INFO("Cache synced successfully");
      }
    },
    // INTERNAL: a discovery run finished.
    [self](atom::internal, std::vector<api_resource>& found) {
      auto& st = self->state;
      st.failed_runs = 0;
      st.discovered = std::move(found);
      if (!st.discovered_once)
        KWS_INFO("discovery found {} watchable resource types",
                 st.discovered.size());
      st.discovered_once = true;
      st.reconcile();
      self->delayed_send(self, st.config.refresh_interval, atom::internal_v,
                         atom::tick_v, ++st.tick_generation);
    },
    // INTERNAL: a discovery run failed.
    [self](atom::internal, atom::failed, caf::error& err) {
      auto& st = self->state;
      auto delay = st.backoff(++st.failed_runs);
      KWS_WARN("discovery failed, retrying in {} ms: {}", delay.count(), err);
      self->delayed_send(self, delay, atom::internal_v, atom::tick_v,
                         ++st.tick_generation);
    },
    // INTERNAL: the CRD reflector's transport answered, or a wait is over.
    [self](atom::internal, reflector_input& input) {
      if (auto& driver = self->state.crd_reflector)
        driver->handle(input);
    },
    // INTERNAL: time to run discovery again.
    [self](atom::internal, atom::tick, uint64_t gen) {
      if (gen == self->state.tick_generation)
        self->state.run_discovery();
    },
    // INTERNAL: time to restart a watcher.
    [self](atom::internal, atom::start, const std::string& key) {
      auto& st = self->state;
      auto i = st.watchers.find(key);
      if (i != st.watchers.end() && !i->second.handle)
        st.spawn_watcher(i->second.type);
    },
  };
}

} // namespace kws
