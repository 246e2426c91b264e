// A WATCHER starts in `resuming`: it asks STORAGE for the persisted
// resourceVersion and starts its reflector from there ("" lists first). In
// `running` the reflector delivers a list (replace semantics) or a batch of
// watch events; the watcher turns them into records, sends them to its sink
// and acknowledges the reflector only once they are durable, so a slow store
// stops the socket reads (back-pressure). A failed delivery is retried after
// `retry_delay` with the same records. On exit the reflector is stopped.
#include "actors/watcher.hpp"

#include "kube/reflector.hpp"
#include "kube/relist_diff.hpp"
#include "messages/logging.hpp"
#include "messages/metrics.hpp"
#include "rest/render.hpp"
#include "storage/record_builder.hpp"

#include <caf/stateful_actor.hpp>

#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<watcher_state>);

namespace {

int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

metrics::counter& malformed_counter(const resource_type& rt) {
  return metrics::get_counter("kws_malformed_objects_total",
                              "Objects from the apiserver that could not be "
                              "turned into records.",
                              "resource=\"" + rt.group_resource() + "\"");
}

/// A minimal object standing for one that vanished while unobserved.
std::string vanished_object(const resource_type& rt, const live_object& obj) {
  auto slash = obj.key.find('/');
  auto ns
    = slash == std::string::npos ? std::string{} : obj.key.substr(0, slash);
  auto name = slash == std::string::npos ? obj.key : obj.key.substr(slash + 1);
  auto quote = [](const std::string& x) { return rest::json_string(x); };
  std::string meta = "\"name\":" + quote(name);
  if (!ns.empty())
    meta += ",\"namespace\":" + quote(ns);
  meta += ",\"uid\":" + quote(obj.uid);
  meta += ",\"resourceVersion\":" + quote(obj.resource_version);
  return "{\"apiVersion\":" + quote(rt.api_version())
    + ",\"kind\":" + quote(rt.kind) + ",\"metadata\":{" + meta + "}}";
}

} // namespace

ingest_batch records_from_events(const resource_type& rt,
                                 const std::vector<watch_event>& events,
                                 bool digest_secret_values, int64_t now_ns,
                                 size_t& num_malformed) {
  ingest_batch result;
  result.group_resource = rt.group_resource();
  storage::record_options opts;
  opts.digest_secrets = digest_secret_values;
  // The wire decoder keeps the apiserver's compact bytes (or writes compact
  // JSON): objectChanges is copied from them, not re-serialized.
  opts.copy_object_text = true;
  for (const auto& ev : events) {
    if (!ev.resource_version.empty())
      result.resource_version = ev.resource_version;
    verb v;
    switch (ev.type) {
      case watch_event_type::added: v = verb::create; break;
      case watch_event_type::modified: v = verb::update; break;
      case watch_event_type::deleted: v = verb::remove; break;
      default: continue; // bookmarks only move the checkpoint
    }
    auto rec = storage::build_record(rt, v, ev.object, now_ns, opts);
    if (!rec) {
      ++num_malformed;
      KWS_WARN("watcher {} skipped a malformed object: {}", rt.group_resource(),
               rec.error());
      continue;
    }
    result.events.push_back(std::move(*rec));
  }
  return result;
}

ingest_batch records_from_list(const resource_type& rt, const list_result& list,
                               const std::vector<live_object>& known,
                               bool digest_secret_values, int64_t now_ns,
                               size_t& num_malformed) {
  ingest_batch result;
  result.group_resource = rt.group_resource();
  result.resource_version = list.resource_version;
  auto diff = kube::diff_relist(known, list);
  num_malformed += diff.malformed.size();
  storage::record_options opts;
  opts.digest_secrets = digest_secret_values;
  // List items and vanished objects are compact JSON written by RapidJSON.
  opts.copy_object_text = true;
  // A delete of a replaced uid comes before the create of the new one.
  for (const auto& gone : diff.deletes) {
    auto del_opts = opts;
    del_opts.final_state_unknown = true;
    auto rec = storage::build_record(
      rt, verb::remove, vanished_object(rt, gone), now_ns, del_opts);
    if (rec)
      result.events.push_back(std::move(*rec));
    else
      ++num_malformed;
  }
  auto add = [&](size_t i, verb v) {
    auto item_opts = opts;
    item_opts.from_initial_list = v == verb::create;
    auto rec = storage::build_record(rt, v, list.items[i], now_ns, item_opts);
    if (rec)
      result.events.push_back(std::move(*rec));
    else
      ++num_malformed;
  };
  for (auto i : diff.creates)
    add(i, verb::create);
  for (auto i : diff.updates)
    add(i, verb::update);
  return result;
}

watcher_state::~watcher_state() {
  // CAF destroys the state in on_exit(), before attached functors run: the
  // reflector is stopped here, never through `self->state` afterwards.
  if (reflector)
    reflector->stop();
}

void watcher_state::report() {
  caf::anon_send(discovery, status);
}

void watcher_state::deliver(ingest_batch batch) {
  if (current == phase::stopped)
    return;
  self->request(sink, config.ack_timeout, batch)
    .then(
      [this](atom::ok) {
        if (reflector)
          reflector->ack();
      },
      [this, batch](const caf::error& err) mutable {
        KWS_WARN("watcher {} could not store {} records, retrying: {}",
                 config.type.group_resource(), batch.events.size(), err);
        status.last_error = "storing records failed: " + render(err);
        report();
        self->delayed_send(self, config.retry_delay, atom::internal_v,
                           std::move(batch));
      });
}

void watcher_state::on_list(list_result list) {
  // The diff needs STORAGE's view of the live objects.
  self
    ->request(storage, config.ack_timeout, atom::live_v,
              config.type.group_resource())
    .then(
      [this, list = std::move(list)](std::vector<live_object>& known) {
        size_t num_malformed = 0;
        auto batch = records_from_list(config.type, list, known,
                                       config.digest_secret_values,
                                       wall_clock_ns(), num_malformed);
        malformed_counter(config.type).inc(num_malformed);
        static auto& num_relists = metrics::get_counter(
          "kws_relists_total", "Completed lists and relists.");
        num_relists.inc();
        KWS_DEBUG("watcher {} listed {} objects, {} changes",
                  config.type.group_resource(), list.items.size(),
                  batch.events.size());
        if (!status.synced || !status.last_error.empty()) {
          status.synced = true;
          status.refused = false;
          status.last_error.clear();
          report();
        }
        deliver(std::move(batch));
      },
      [this](const caf::error& err) {
        KWS_ERROR("watcher {} cannot read live objects: {}",
                  config.type.group_resource(), err);
        self->quit(err);
      });
}

void watcher_state::on_events(const std::vector<watch_event>& events) {
  size_t num_malformed = 0;
  auto batch
    = records_from_events(config.type, events, config.digest_secret_values,
                          wall_clock_ns(), num_malformed);
  malformed_counter(config.type).inc(num_malformed);
  if (!status.last_error.empty()) {
    status.last_error.clear();
    status.refused = false;
    report();
  }
  deliver(std::move(batch));
}

watcher_actor::behavior_type
watcher(watcher_actor::stateful_pointer<watcher_state> self, watcher_config cfg,
        std::shared_ptr<kube::client> client, ingest_sink_actor sink,
        storage_actor storage, discovery_actor discovery) {
  auto& st = self->state;
  st.config = std::move(cfg);
  st.client = std::move(client);
  st.sink = std::move(sink);
  st.storage = std::move(storage);
  st.discovery = std::move(discovery);
  st.status.type = st.config.type;
  self
    ->request(st.storage, st.config.ack_timeout, atom::checkpoint_v,
              st.config.type.group_resource())
    .then(
      [self](const watch_checkpoint& cp) {
        auto& st = self->state;
        // The reflector's callbacks hold only a weak reference, so a stopped
        // watcher is not kept alive by its client.
        caf::weak_actor_ptr weak = self->ctrl();
        auto to_self = [weak](auto... xs) {
          if (auto strong = weak.lock())
            caf::anon_send(caf::actor_cast<watcher_actor>(strong),
                           atom::internal_v, std::move(xs)...);
        };
        kube::reflector_callbacks cb;
        cb.on_list = [to_self](list_result x) { to_self(std::move(x)); };
        cb.on_events
          = [to_self](std::vector<watch_event> xs) { to_self(std::move(xs)); };
        cb.on_error = [to_self](caf::error err) {
          to_self(atom::failed_v, std::move(err));
        };
        kube::reflector_options opts;
        opts.seed = st.config.seed;
        st.reflector = kube::reflector::make(st.client, st.config.type, opts,
                                             std::move(cb));
        st.current = watcher_state::phase::running;
        KWS_INFO("Started watching {}/{} ({})", st.config.type.group,
                 st.config.type.version, st.config.type.kind);
        // Resuming from a checkpoint, the store already holds the state up
        // to it: synced without a list. A 410 later relists all the same.
        if (!cp.resource_version.empty()) {
          st.status.synced = true;
          st.report();
        }
        st.reflector->start(cp.resource_version);
      },
      [self](const caf::error& err) {
        KWS_ERROR("watcher {} cannot read its checkpoint: {}",
                  self->state.config.type.group_resource(), err);
        self->quit(err);
      });
  return {
    // INTERNAL: a (paged) list finished.
    [self](atom::internal, list_result& list) {
      self->state.on_list(std::move(list));
    },
    // INTERNAL: watch events, or a batch to send again.
    [self](atom::internal, const std::vector<watch_event>& events) {
      self->state.on_events(events);
    },
    // INTERNAL: the reflector hit an error and retries after its backoff.
    [self](atom::internal, atom::failed, caf::error& err) {
      auto& st = self->state;
      static auto& num_restarts = metrics::get_counter(
        "kws_watch_restarts_total", "Watch restarts after errors.");
      num_restarts.inc();
      if (err == ec::gone) {
        static auto& num_gone = metrics::get_counter(
          "kws_watch_gone_total", "410 Gone answers that forced a relist.");
        num_gone.inc();
      }
      ++st.status.restarts;
      st.status.last_error = render(err);
      st.status.refused = err == ec::unauthorized || err == ec::not_found;
      KWS_WARN("watcher {} failed, retrying: {}",
               st.config.type.group_resource(), err);
      st.report();
    },
    // INTERNAL: send a batch again after STORAGE failed it.
    [self](atom::internal, ingest_batch& batch) {
      self->state.deliver(std::move(batch));
    },
  };
}

} // namespace kws
