// The WATCHER: one reflector per resource type, turning list results and watch
// events into records for STORAGE (or the CORRELATOR, for Events).
#pragma once

#include "actors/interfaces.hpp"

#include <chrono>
#include <memory>
#include <optional>

namespace kws::kube {
class client;
class reflector;
} // namespace kws::kube

namespace kws {

/// Configuration of a WATCHER (validated by DISCOVERY, never parsed here).
struct watcher_config {
  resource_type type;
  bool digest_secret_values = true;
  /// How long STORAGE may take to acknowledge a batch.
  std::chrono::milliseconds ack_timeout{60'000};
  /// Wait before sending a batch again after STORAGE failed it.
  std::chrono::milliseconds retry_delay{1'000};
  /// Seed for the reflector's backoff jitter.
  uint64_t seed = 0;
};

/// State of a WATCHER.
struct watcher_state {
  explicit watcher_state(watcher_actor::pointer self) : self{self} {}

  /// Stops the reflector (the actor is exiting).
  ~watcher_state();

  /// Phases: `resuming` (asking STORAGE for the checkpoint), `running`
  /// (reflector delivering), `stopped`.
  enum class phase : uint8_t { resuming, running, stopped };

  /// Sends `batch` to the sink and acknowledges the reflector once durable.
  void deliver(ingest_batch batch);

  /// Turns a list result into records by diffing it against STORAGE's view.
  void on_list(list_result list);

  /// Turns watch events into records.
  void on_events(const std::vector<watch_event>& events);

  /// Reports the current status to DISCOVERY.
  void report();

  watcher_actor::pointer self;
  watcher_config config;
  std::shared_ptr<kube::client> client;
  std::shared_ptr<kube::reflector> reflector;
  ingest_sink_actor sink;
  storage_actor storage;
  discovery_actor discovery;
  phase current = phase::resuming;
  watcher_status status;

  static inline const char* name = "watcher";
};

/// Implements the WATCHER interface. The reflector runs on the client's Asio
/// thread and reports through `anon_send`; records go to `sink`, relist diffs
/// read `storage`, status goes to `discovery`.
watcher_actor::behavior_type
watcher(watcher_actor::stateful_pointer<watcher_state> self, watcher_config cfg,
        std::shared_ptr<kube::client> client, ingest_sink_actor sink,
        storage_actor storage, discovery_actor discovery);

/// Builds the records of a watch-event batch (pure; tested without actors).
/// Malformed objects are skipped and counted in `num_malformed`. Returns the
/// records and the resourceVersion to checkpoint (the last event's).
ingest_batch records_from_events(const resource_type& rt,
                                 const std::vector<watch_event>& events,
                                 bool digest_secret_values, int64_t now_ns,
                                 size_t& num_malformed);

/// Builds the records of a relist: creates and updates from the fresh list,
/// deletes marked finalStateUnknown for objects STORAGE knows but the list
/// lacks (pure; tested without actors).
ingest_batch records_from_list(const resource_type& rt, const list_result& list,
                               const std::vector<live_object>& known,
                               bool digest_secret_values, int64_t now_ns,
                               size_t& num_malformed);

} // namespace kws
