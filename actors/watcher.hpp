// The WATCHER: one reflector per resource type, turning list results and watch
// events into records for STORAGE (or the CORRELATOR, for Events).
#pragma once

#include "actors/interfaces.hpp"
#include "actors/reflector_driver.hpp"
#include "kube/selector.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace kws::metrics {
class gauge;
} // namespace kws::metrics

namespace kws::kube {
class lister_watcher;
} // namespace kws::kube

namespace kws {

/// Configuration of a WATCHER (validated by DISCOVERY, never parsed here).
struct watcher_config {
  resource_type type;
  bool digest_secret_values = true;
  /// The install's key of Secret digests (empty: unkeyed `sha256:`).
  std::string secret_digest_key;
  /// How long STORAGE may take to acknowledge a batch.
  std::chrono::milliseconds ack_timeout{60'000};
  /// Wait before sending a batch again after STORAGE failed it.
  std::chrono::milliseconds retry_delay{1'000};
  /// Further behind its stream than this, the watcher reports itself behind.
  std::chrono::milliseconds max_lag{std::chrono::seconds{30}};
  /// How often the lag is measured while nothing else happens.
  std::chrono::milliseconds lag_interval{std::chrono::seconds{1}};
  /// Events of at most this many reflector deliveries go into one batch.
  size_t max_batch_events = 10'000;
  /// What of the type is recorded.
  watch_filter filter;
  /// The filter changed since the checkpoint: list before watching, so that
  /// objects it now selects are recorded; that list infers no deletes (an
  /// object missing from it may only have left the selection).
  bool relist = false;
  /// Tuning of the reflector (its seed: 0 draws one).
  kube::reflector_settings reflector = {};
  /// Wall clock in nanoseconds since the epoch (injectable for tests).
  std::function<int64_t()> now;
};

/// State of a WATCHER.
///
/// Watch events go to the sink in batches, one at a time: what the reflector
/// delivers while a batch is being stored waits in `backlog` and goes out
/// whole as the next batch once the previous one is durable, so the sink
/// sees few large batches under load and one small batch per change when
/// idle. The reflector is acknowledged for a delivery only once its records
/// are durable; its window bounds the backlog.
struct watcher_state {
  explicit watcher_state(watcher_actor::pointer self) : self{self} {}

  /// Phases: `resuming` (asking STORAGE for the checkpoint), `running`
  /// (reflector delivering), `stopped`.
  enum class phase : uint8_t { resuming, running, stopped };

  /// Events of one reflector delivery, received at `received_ns`.
  struct delivery {
    std::vector<watch_event> events;
    int64_t received_ns = 0;
  };

  /// The batch the sink is storing.
  struct in_flight_batch {
    ingest_batch records;
    /// Reflector deliveries it covers (acknowledged once it is durable).
    size_t deliveries = 0;
    /// When each covered delivery was received, and its number of events.
    std::vector<std::pair<int64_t, size_t>> received;
    /// Last resourceVersion it holds.
    std::string resource_version;
    /// The records of a list (the watcher is positioned once it is durable).
    bool is_list = false;
  };

  /// A delivery of watch events: queued, and sent at once if nothing is in
  /// flight.
  void on_events(std::vector<watch_event> events, int64_t received_ns);

  /// A list result: handled once everything delivered before it is durable.
  void on_list(list_result list);

  /// Sends the next batch (the whole backlog, or a waiting list) unless one
  /// is in flight.
  void send_next();

  /// Builds the in-flight batch's records from `events` and delivers it.
  void build_batch(const std::vector<watch_event>& events);

  /// Looks up the objects of DELETED events that may only have left the
  /// selectors; false when there are none (or no client).
  bool check_exits(std::vector<watch_event>& events);

  /// Sends the in-flight batch to the sink.
  void deliver();

  /// The in-flight batch is durable: acknowledges the reflector and sends
  /// the next one.
  void on_durable();

  /// Measures the lag, updates the gauges and reports crossing `max_lag`.
  void update_lag();

  /// The reflector hit an error; the next list is a relist with a gap.
  void on_failure(const caf::error& err);

  /// Reports the current status to DISCOVERY.
  void report();

  int64_t now() const { return config.now(); }

  watcher_actor::pointer self;
  watcher_config config;
  std::shared_ptr<kube::lister_watcher> source;
  /// Runs the reflector over `source`; stops it when the actor exits.
  std::unique_ptr<reflector_driver> driver;
  ingest_sink_actor sink;
  storage_actor storage;
  discovery_actor discovery;
  phase current = phase::resuming;
  watcher_status status;

  /// Deliveries received while a batch is in flight, in stream order.
  std::deque<delivery> backlog;
  size_t backlog_events = 0;
  std::optional<in_flight_batch> in_flight;
  /// A list that arrived while a batch was in flight.
  std::optional<list_result> waiting_list;
  /// The stream position: the last resourceVersion received (or listed, or
  /// resumed from) and when. A relist loses what came after it.
  std::string received_rv;
  int64_t received_ns = 0;
  /// The last resourceVersion durable.
  std::string durable_rv;
  /// The last error the reflector reported since the last durable list: the
  /// next list is a relist, and what it closes is a coverage gap.
  std::string broken_by;
  /// True once a list or a checkpoint gave the watcher a stream position.
  bool positioned = false;
  /// The namespace path and selectors of `config.filter`.
  kube::selection selection;
  /// The next list infers no deletes (`config.relist`).
  bool keep_unlisted = false;
  /// The events of the in-flight batch while DELETED objects are looked up
  /// (`selector_exit_candidates`); built into records once all answered.
  struct exit_check {
    std::vector<watch_event> events;
    size_t pending = 0;
    std::set<std::string> still_there;
  };
  std::optional<exit_check> checking;

  /// This type's lag gauges, looked up once: `update_lag` runs per delivery.
  struct lag_gauges {
    metrics::gauge* seconds = nullptr;
    metrics::gauge* backlog = nullptr;
    metrics::gauge* resource_versions = nullptr;
  } gauges;

  static inline const char* name = "watcher";
};

/// Implements the WATCHER interface. Its reflector lists and watches through
/// `source` (the kube client, or a scripted transport in tests); records go
/// to `sink`, relist diffs read `storage`, status goes to `discovery`.
watcher_actor::behavior_type
watcher(watcher_actor::stateful_pointer<watcher_state> self, watcher_config cfg,
        std::shared_ptr<kube::lister_watcher> source, ingest_sink_actor sink,
        storage_actor storage, discovery_actor discovery);

/// Builds the records of a watch-event batch (pure; tested without actors).
/// Malformed objects are skipped and counted in `num_malformed`. Returns the
/// records and the resourceVersion to checkpoint (the last event's).
/// `digest_key` keys the digests of Secret values (`secret_digest.hpp`).
ingest_batch records_from_events(const resource_type& rt,
                                 const std::vector<watch_event>& events,
                                 bool digest_secret_values, int64_t now_ns,
                                 size_t& num_malformed,
                                 std::string_view digest_key = {});

/// Keeps what the namespace lists of `sel` record that the request could
/// not leave out: other watch events become bookmarks (they still move the
/// checkpoint); list items and known objects of other namespaces go. Pure.
void retain_selected(const kube::selection& sel,
                     std::vector<watch_event>& events);
void retain_selected(const kube::selection& sel, list_result& list,
                     std::vector<live_object>& known);

/// Marks updates for `statusUpdates: drop`. Pure.
void mark_status_drops(const watch_filter& filter, ingest_batch& batch);

/// The object of a DELETED event: its path and uid.
struct deleted_object {
  std::string path;
  std::string uid;
};

/// Under a label or field selector the apiserver also sends DELETED (with
/// the object as it last matched) when an object merely stops matching:
/// the DELETED objects to look up before recording them. Pure.
std::vector<deleted_object>
selector_exit_candidates(const resource_type& rt, const kube::selection& sel,
                         const std::vector<watch_event>& events);

/// True when `body` (a GET's answer) is the object with `uid`.
bool is_same_object(std::string_view body, std::string_view uid);

/// DELETED events of objects that still exist become bookmarks. Pure.
void drop_selector_exits(std::vector<watch_event>& events,
                         const std::set<std::string>& still_there);

/// Builds the records of a relist: creates and updates from the fresh list,
/// deletes marked finalStateUnknown for objects STORAGE knows but the list
/// lacks (pure; tested without actors).
ingest_batch records_from_list(const resource_type& rt, const list_result& list,
                               const std::vector<live_object>& known,
                               bool digest_secret_values, int64_t now_ns,
                               size_t& num_malformed,
                               std::string_view digest_key = {});

} // namespace kws
