// The SUPERVISOR: starts the long-lived actors in order and owns shutdown.
#pragma once

#include "actors/access.hpp"
#include "actors/discovery.hpp"
#include "actors/exporter.hpp"
#include "actors/http_handler.hpp"
#include "actors/interfaces.hpp"
#include "actors/storage.hpp"

#include <memory>
#include <vector>

namespace kws::storage {
class rocks_store;
}

namespace kws {

/// Configuration of the SUPERVISOR: its children's configurations.
struct supervisor_config {
  storage_config storage;
  discovery_config discovery;
  http_handler_config http;
  /// INDEX actors answering queries side by side (at least one).
  size_t query_workers = 2;
  access_config access;
  /// The client ACCESS asks the apiserver's reviews with; null when
  /// authorization is off (no ACCESS, every query answered in full).
  std::shared_ptr<kube::client> access_client;
  /// With `export.kafka`: the EXPORTER's configuration and sender; no
  /// sender, no EXPORTER.
  exporter_config exporter;
  export_send export_to;
};

/// State of the SUPERVISOR: handles of its children.
struct supervisor_state {
  explicit supervisor_state(supervisor_actor::pointer self) : self{self} {}

  supervisor_actor::pointer self;
  supervisor_config config;
  std::shared_ptr<kube::client> client;
  std::shared_ptr<storage::rocks_store> store;
  storage_actor storage;
  std::vector<index_actor> indexes;
  correlator_actor correlator;
  discovery_actor discovery;
  access_actor access;
  http_handler_actor http;
  http_relay_actor relay;
  exporter_actor exporter;

  static inline const char* name = "supervisor";
};

/// Implements the SUPERVISOR interface. Storage and the index actors are
/// spawned detached (they block on RocksDB); the rest run on the scheduler.
supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           supervisor_config cfg, std::shared_ptr<storage::rocks_store> store,
           std::shared_ptr<kube::client> client);

} // namespace kws
