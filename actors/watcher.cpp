// A WATCHER starts in `resuming`: it asks STORAGE for the persisted
// resourceVersion and starts its reflector from there ("" lists first). In
// `running` the reflector (a pure machine that `reflector_driver` runs in
// this actor) delivers a list (replace semantics) or watch events. One batch at
// a time is in flight to the sink; what arrives meanwhile waits in the backlog
// and goes out whole as the next batch once the previous one is durable (group
// commit at the watcher). The reflector is acknowledged only for durable
// records, so its window bounds the backlog and a slow store stops the socket
// reads (back-pressure). A failed batch is sent again after `retry_delay`. A
// relist after a broken watch records the coverage gap it closes. On exit the
// reflector is stopped.
#include "actors/watcher.hpp"

#include "actors/weak_handle.hpp"
#include "kube/lister_watcher.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"
#include "util/time_format.hpp"

#include <caf/stateful_actor.hpp>

#include <charconv>
#include <optional>
#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<watcher_state>);

namespace {

constexpr int64_t ns_per_ms = 1'000'000;

std::string resource_label(const resource_type& rt) {
  return "resource=\"" + rt.group_resource() + "\"";
}

metrics::counter& malformed_counter(const resource_type& rt) {
  return metrics::get_counter("kws_malformed_objects_total",
                              "Objects from the apiserver that could not be "
                              "turned into records.",
                              resource_label(rt));
}

/// The numeric distance between two resourceVersions (etcd revisions), or 0
/// when either is not a number (they are opaque to clients).
int64_t rv_distance(const std::string& newer, const std::string& older) {
  auto number = [](const std::string& x) -> std::optional<int64_t> {
    int64_t result = 0;
    auto [end, ec] = std::from_chars(x.data(), x.data() + x.size(), result);
    if (ec != std::errc{} || end != x.data() + x.size())
      return std::nullopt;
    return result;
  };
  auto a = number(newer);
  auto b = number(older);
  return a && b && *a >= *b ? *a - *b : 0;
}

} // namespace

void watcher_state::report() {
  caf::anon_send(discovery, status);
}

void watcher_state::on_events(std::vector<watch_event> events,
                              int64_t received_ns) {
  for (auto i = events.rbegin(); i != events.rend(); ++i)
    if (!i->resource_version.empty()) {
      received_rv = i->resource_version;
      this->received_ns = received_ns;
      break;
    }
  backlog_events += events.size();
  backlog.push_back(delivery{std::move(events), received_ns});
  send_next();
  update_lag();
}

void watcher_state::on_list(list_result list) {
  std::vector<live_object> none;
  retain_selected(selection, list, none);
  waiting_list = std::move(list);
  send_next();
}

void watcher_state::build_batch(const std::vector<watch_event>& events) {
  size_t num_malformed = 0;
  in_flight->records
    = records_from_events(config.type, events, config.digest_secret_values,
                          now(), num_malformed, config.secret_digest_key);
  mark_status_drops(config.filter, in_flight->records);
  in_flight->resource_version = in_flight->records.resource_version;
  malformed_counter(config.type).inc(num_malformed);
  if (!status.last_error.empty()) {
    status.last_error.clear();
    status.refused = false;
    report();
  }
  deliver();
}

bool watcher_state::check_exits(std::vector<watch_event>& events) {
  if (!source)
    return false;
  auto candidates = selector_exit_candidates(config.type, selection, events);
  if (candidates.empty())
    return false;
  checking = exit_check{std::move(events), candidates.size(), {}};
  weak_handle<watcher_actor> weak{self};
  for (auto& obj : candidates) {
    source->get(obj.path,
                [weak, uid = obj.uid](caf::expected<kube::response> res) {
                  // A failed lookup counts as gone: the delete is recorded.
                  bool there = res && res->status == 200
                    && is_same_object(res->body, uid);
                  weak.send(atom::internal_v, atom::live_v, uid, there);
                });
  }
  return true;
}

void watcher_state::send_next() {
  if (in_flight || current == phase::stopped)
    return;
  if (!backlog.empty()) {
    // Whole deliveries, at least one, up to `max_batch_events`.
    std::vector<watch_event> events;
    in_flight_batch batch;
    while (!backlog.empty()
           && (batch.deliveries == 0
               || events.size() + backlog.front().events.size()
                 <= config.max_batch_events)) {
      auto& d = backlog.front();
      batch.received.emplace_back(d.received_ns, d.events.size());
      backlog_events -= d.events.size();
      std::move(d.events.begin(), d.events.end(), std::back_inserter(events));
      ++batch.deliveries;
      backlog.pop_front();
    }
    retain_selected(selection, events);
    in_flight = std::move(batch);
    if (!check_exits(events))
      build_batch(events);
    return;
  }
  if (!waiting_list)
    return;
  // The diff needs STORAGE's view of the live objects, read only now that
  // everything delivered before the list is durable.
  auto list = std::move(*waiting_list);
  waiting_list.reset();
  in_flight = in_flight_batch{};
  in_flight->deliveries = 1;
  in_flight->is_list = true;
  self
    ->request(storage, config.ack_timeout, atom::live_v,
              config.type.group_resource())
    .then(
      [this, list = std::move(list)](std::vector<live_object>& known) {
        // Objects outside the selected namespaces are not unlisted ones.
        list_result none;
        retain_selected(selection, none, known);
        size_t num_malformed = 0;
        auto batch = records_from_list(config.type, list, known,
                                       config.digest_secret_values, now(),
                                       num_malformed, config.secret_digest_key);
        malformed_counter(config.type).inc(num_malformed);
        if (keep_unlisted) {
          keep_unlisted = false;
          std::erase_if(batch.events, [](const resource_event& ev) {
            return ev.action == verb::remove && ev.final_state_unknown;
          });
        }
        mark_status_drops(config.filter, batch);
        static auto& num_relists = metrics::get_counter(
          "kws_relists_total", "Completed lists and relists.");
        num_relists.inc();
        KWS_DEBUG("watcher {} listed {} objects, {} changes",
                  config.type.group_resource(), list.items.size(),
                  batch.events.size());
        if (positioned && !broken_by.empty()) {
          coverage_gap gap;
          gap.group_resource = config.type.group_resource();
          gap.start_ns = received_ns;
          gap.end_ns = now();
          gap.from_resource_version = received_rv;
          gap.to_resource_version = list.resource_version;
          gap.reason = broken_by;
          KWS_WARN("watcher {} relisted at resourceVersion {} after: {}; "
                   "changes between {} and {} (resourceVersion {}) may be "
                   "missing, the state at the relist is recorded",
                   gap.group_resource, gap.to_resource_version, gap.reason,
                   format_rfc3339(gap.start_ns), format_rfc3339(gap.end_ns),
                   gap.from_resource_version);
          metrics::get_counter("kws_coverage_gaps_total",
                               "Relists after a broken watch: intervals in "
                               "which versions may be missing.",
                               resource_label(config.type))
            .inc();
          batch.gaps.push_back(std::move(gap));
        }
        in_flight->records = std::move(batch);
        in_flight->resource_version = list.resource_version;
        deliver();
      },
      [this](const caf::error& err) {
        KWS_ERROR("watcher {} cannot read live objects: {}",
                  config.type.group_resource(), err);
        self->quit(err);
      });
}

void watcher_state::deliver() {
  if (current == phase::stopped || !in_flight)
    return;
  self->request(sink, config.ack_timeout, in_flight->records)
    .then([this](atom::ok) { on_durable(); },
          [this](const caf::error& err) {
            KWS_WARN("watcher {} could not store {} records, retrying: {}",
                     config.type.group_resource(),
                     in_flight ? in_flight->records.events.size() : 0, err);
            status.last_error = "storing records failed: " + render(err);
            report();
            self->delayed_send(self, config.retry_delay, atom::internal_v,
                               atom::flush_v);
          });
}

void watcher_state::on_durable() {
  if (!in_flight)
    return;
  auto batch = std::move(*in_flight);
  in_flight.reset();
  auto t = now();
  if (driver)
    driver->ack(batch.deliveries);
  static auto& delivery_seconds = metrics::get_histogram(
    "kws_watch_delivery_seconds",
    "Time from reading a change off the watch stream to its record being "
    "durable.");
  for (auto& [received_ns, n] : batch.received) {
    auto seconds = static_cast<double>(t - received_ns) / 1e9;
    for (size_t i = 0; i < n; ++i)
      delivery_seconds.observe(seconds);
  }
  if (!batch.resource_version.empty())
    durable_rv = batch.resource_version;
  if (batch.is_list) {
    received_rv = batch.resource_version;
    received_ns = t;
    positioned = true;
    broken_by.clear();
    if (!status.synced || !status.last_error.empty()) {
      status.synced = true;
      status.refused = false;
      status.last_error.clear();
      report();
    }
  }
  send_next();
  update_lag();
}

void watcher_state::update_lag() {
  int64_t oldest = 0;
  if (in_flight && !in_flight->received.empty())
    oldest = in_flight->received.front().first;
  else if (!backlog.empty())
    oldest = backlog.front().received_ns;
  auto lag_ms
    = oldest == 0 ? 0 : std::max<int64_t>(0, now() - oldest) / ns_per_ms;
  auto pending
    = backlog_events + (in_flight ? in_flight->records.events.size() : 0);
  gauges.seconds->set(lag_ms);
  gauges.backlog->set(static_cast<int64_t>(pending));
  gauges.resource_versions->set(rv_distance(received_rv, durable_rv));
  status.lag_ms = lag_ms;
  bool behind = lag_ms > config.max_lag.count();
  if (behind != status.behind) {
    status.behind = behind;
    if (behind)
      KWS_WARN("watcher {} is {} s behind its watch stream ({} changes not "
               "yet stored)",
               config.type.group_resource(), lag_ms / 1000, pending);
    else
      KWS_INFO("watcher {} caught up with its watch stream",
               config.type.group_resource());
    report();
  }
}

void watcher_state::on_failure(const caf::error& err) {
  static auto& num_restarts = metrics::get_counter(
    "kws_watch_restarts_total", "Watch restarts after errors.");
  num_restarts.inc();
  if (err == ec::gone) {
    static auto& num_gone = metrics::get_counter(
      "kws_watch_gone_total", "410 Gone answers that forced a relist.");
    num_gone.inc();
  }
  // Whatever broke the stream, the reflector's next list replaces it: the
  // versions in between are not seen.
  broken_by = render(err);
  ++status.restarts;
  status.last_error = render(err);
  status.refused = err == ec::unauthorized || err == ec::not_found;
  KWS_WARN("watcher {} failed, retrying: {}", config.type.group_resource(),
           err);
  report();
}

watcher_actor::behavior_type
watcher(watcher_actor::stateful_pointer<watcher_state> self, watcher_config cfg,
        std::shared_ptr<kube::lister_watcher> source, ingest_sink_actor sink,
        storage_actor storage, discovery_actor discovery) {
  auto& st = self->state;
  if (!cfg.now)
    cfg.now = [] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
    };
  st.config = std::move(cfg);
  st.source = std::move(source);
  st.sink = std::move(sink);
  st.storage = std::move(storage);
  st.discovery = std::move(discovery);
  st.status.type = st.config.type;
  auto labels = resource_label(st.config.type);
  st.gauges.seconds = &metrics::get_seconds_gauge(
    "kws_watch_lag_seconds",
    "Age of the oldest change read off the watch stream and not yet durable "
    "(0 when caught up).",
    labels);
  st.gauges.backlog = &metrics::get_gauge(
    "kws_watch_backlog_events",
    "Changes read off the watch stream and not yet durable.", labels);
  st.gauges.resource_versions = &metrics::get_gauge(
    "kws_watch_lag_resource_versions",
    "resourceVersions between the last change read off the watch stream and "
    "the last durable one (0 when they are not numbers).",
    labels);
  st.received_ns = st.now();
  // DISCOVERY passes validated filters; one that still fails stops the
  // watcher (its checkpoint request is never answered then).
  if (auto sel = kube::make_selection(st.config.type, st.config.filter)) {
    st.selection = std::move(*sel);
  } else {
    KWS_ERROR("watcher {} has an invalid filter: {}",
              st.config.type.group_resource(), sel.error());
    self->quit(sel.error());
  }
  self
    ->request(st.storage, st.config.ack_timeout, atom::checkpoint_v,
              st.config.type.group_resource())
    .then(
      [self](const watch_checkpoint& cp) {
        auto& st = self->state;
        st.current = watcher_state::phase::running;
        st.durable_rv = cp.resource_version;
        st.received_rv = cp.resource_version;
        st.positioned = !cp.resource_version.empty();
        // A changed filter lists first; what that list adds is reported as
        // a gap, like any relist.
        bool relist = st.positioned && st.config.relist;
        if (relist) {
          st.broken_by = "filter changed";
          st.keep_unlisted = true;
        }
        // Resuming from a checkpoint, the store already holds the state up
        // to it: synced without a list. A 410 later relists all the same.
        if (st.positioned && !relist) {
          st.status.synced = true;
          st.report();
        }
        self->delayed_send(self, st.config.lag_interval, atom::internal_v,
                           atom::tick_v);
        if (!st.source)
          return;
        reflector_handlers handlers;
        handlers.on_list = [&st](list_result x) { st.on_list(std::move(x)); };
        handlers.on_events = [&st](std::vector<watch_event> xs, int64_t at) {
          st.on_events(std::move(xs), at);
        };
        handlers.on_error
          = [&st](const caf::error& err) { st.on_failure(err); };
        st.driver = std::make_unique<reflector_driver>(
          self, st.source, st.config.type, st.config.reflector,
          std::move(handlers));
        KWS_INFO("Started watching {}/{} ({})", st.config.type.group,
                 st.config.type.version, st.config.type.kind);
        st.driver->start(relist ? "" : cp.resource_version);
      },
      [self](const caf::error& err) {
        KWS_ERROR("watcher {} cannot read its checkpoint: {}",
                  self->state.config.type.group_resource(), err);
        self->quit(err);
      });
  return {
    // INTERNAL: the reflector's transport answered, or a wait is over.
    [self](atom::internal, reflector_input& input) {
      if (auto& driver = self->state.driver)
        driver->handle(input);
    },
    // INTERNAL: send the in-flight batch again after its sink failed it.
    [self](atom::internal, atom::flush) { self->state.deliver(); },
    // INTERNAL: a DELETED object under a selector was looked up.
    [self](atom::internal, atom::live, const std::string& uid, bool there) {
      auto& st = self->state;
      if (!st.checking)
        return;
      if (there)
        st.checking->still_there.insert(uid);
      if (--st.checking->pending > 0)
        return;
      auto events = std::move(st.checking->events);
      drop_selector_exits(events, st.checking->still_there);
      if (!st.checking->still_there.empty())
        metrics::get_counter("kws_selector_exits_total",
                             "Objects that stopped matching a label or field "
                             "selector (not recorded as deleted).",
                             resource_label(st.config.type))
          .inc(st.checking->still_there.size());
      st.checking.reset();
      st.build_batch(events);
    },
    // INTERNAL: measure the lag while nothing else happens.
    [self](atom::internal, atom::tick) {
      auto& st = self->state;
      st.update_lag();
      self->delayed_send(self, st.config.lag_interval, atom::internal_v,
                         atom::tick_v);
    },
  };
}

} // namespace kws
