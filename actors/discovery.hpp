// DISCOVERY: decides the watched set, runs one WATCHER per type, owns
// readiness and the resourceType resolver.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/reflector_driver.hpp"
#include "actors/watch_set.hpp"

#include <chrono>
#include <map>
#include <memory>

namespace kws::kube {
class api_source;
class resource_resolver;
} // namespace kws::kube

namespace kws::storage {
class rocks_store;
} // namespace kws::storage

namespace kws {

/// Configuration of DISCOVERY.
struct discovery_config {
  /// What to watch and how; replaced by a configuration reload.
  watch_settings watch;
  /// The install's key of Secret digests, from the store.
  std::string secret_digest_key;
  /// Types the store holds history of (`stored_types`): they resolve by
  /// name even when the apiserver no longer serves them.
  std::vector<resource_type> stored;
  /// How often discovery runs again to notice new API groups.
  std::chrono::milliseconds refresh_interval{std::chrono::minutes{5}};
  /// First and largest wait before retrying a failed discovery or restarting
  /// a crashed watcher.
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{30'000};
};

/// State of DISCOVERY.
struct discovery_state {
  explicit discovery_state(discovery_actor::pointer self) : self{self} {}

  /// One running (or restarting) watcher.
  struct entry {
    resource_type type;
    watcher_actor handle;
    watcher_status status;
    /// What the running watcher was started with: a reload that changes
    /// it restarts the watcher.
    watch_filter filter;
    bool digest_secret_values = true;
    int64_t max_watch_lag_ms = 0;
    /// Consecutive crashes, for the restart backoff.
    uint32_t crashes = 0;
  };

  /// Starts a discovery run; its result arrives as an INTERNAL message.
  void run_discovery();

  /// Starts and stops watchers until they match the wanted set.
  void reconcile();

  /// Spawns the watcher of one type; `relist` when its filter changed.
  void spawn_watcher(const resource_type& rt, bool relist = false);

  /// Stops the watcher of `key` (it is not restarted).
  void stop_watcher(const std::string& key);

  /// Applies reloaded settings: starts or stops the CRD reflector, then
  /// reconciles.
  void apply(watch_settings next);

  /// Starts the reflector over CustomResourceDefinitions.
  void start_crd_reflector();

  /// Applies a CRD list or CRD events.
  void apply_crd(const std::string& json, bool deleted);

  /// The type catalog of what is known now.
  kube::type_catalog_ptr catalog() const;

  /// Sends the current type catalog to every sink.
  void publish_catalog();

  /// Readiness: discovery ran and every watcher synced or failed visibly.
  readiness current_readiness() const;

  /// Wait before retry number `n` (1-based).
  std::chrono::milliseconds backoff(uint32_t n) const;

  discovery_actor::pointer self;
  discovery_config config;
  /// The apiserver: discovery runs and each watcher's transport.
  std::shared_ptr<kube::api_source> api;
  storage_actor storage;
  correlator_actor correlator;
  /// The reflector over CustomResourceDefinitions (with `discover_crds`).
  std::unique_ptr<reflector_driver> crd_reflector;
  /// Everything the apiserver serves, from the last discovery run.
  std::vector<api_resource> discovered;
  /// Resolves clients' resourceType names; rebuilt on every change.
  std::shared_ptr<const kube::resource_resolver> resolver;
  /// Types not watched now whose history stays queryable by name: those
  /// whose watchers stopped (their CRD was deleted) and, from the start,
  /// every type the store holds records of (`config.stored`).
  std::map<std::string, resource_type> retired;
  /// Established CRDs by name.
  std::map<std::string, resource_type> crds;
  /// Running watchers by group_resource.
  std::map<std::string, entry> watchers;
  /// Where every new type catalog goes (the HTTP HANDLER).
  std::vector<catalog_sink_actor> catalog_sinks;
  bool discovered_once = false;
  bool synced_logged = false;
  uint32_t failed_runs = 0;
  uint64_t tick_generation = 0;

  static inline const char* name = "discovery";
};

/// The resource types `store` holds records of, one per checkpoint, with
/// kind, version and scope taken from the newest record of the type. Types
/// with a checkpoint but no record are left out.
caf::expected<std::vector<resource_type>>
stored_types(const storage::rocks_store& store);

/// Implements the DISCOVERY interface.
discovery_actor::behavior_type
discovery(discovery_actor::stateful_pointer<discovery_state> self,
          discovery_config cfg, std::shared_ptr<kube::api_source> api,
          storage_actor storage, correlator_actor correlator);

} // namespace kws
