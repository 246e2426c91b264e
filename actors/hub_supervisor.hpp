// The HUB SUPERVISOR (`k8s-watch-server hub`): one store, INDEX actors,
// HTTP HANDLER and STORE BACKUP per cluster served, the HUB INGEST that
// fills the stores from Kafka, and the HUB RELAY that sends each request
// to its cluster's handler. Speaks the SUPERVISOR interface, so main() runs
// a hub as it runs a server.
#pragma once

#include "actors/http_handler.hpp"
#include "actors/hub_ingest.hpp"
#include "actors/interfaces.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kws {

/// Configuration of the HUB SUPERVISOR.
struct hub_supervisor_config {
  hub_ingest_config ingest;
  /// Every cluster's HTTP HANDLER's.
  http_handler_config http;
  /// INDEX actors per cluster (at least one).
  size_t query_workers = 2;
};

/// State of the HUB SUPERVISOR.
struct hub_supervisor_state {
  explicit hub_supervisor_state(supervisor_actor::pointer self) : self{self} {}

  supervisor_actor::pointer self;
  hub_supervisor_config config;
  /// By cluster.
  std::map<std::string, std::shared_ptr<storage::rocks_store>> stores;
  std::map<std::string, std::vector<index_actor>> indexes;
  std::map<std::string, http_handler_actor> http;
  std::map<std::string, backup_actor> backups;
  hub_ingest_actor ingest;
  http_relay_actor relay;

  static inline const char* name = "hub-supervisor";
};

/// Implements the SUPERVISOR interface for a hub serving the clusters of
/// `stores` (at least one). A child that stops unasked stops the hub.
supervisor_actor::behavior_type hub_supervisor(
  supervisor_actor::stateful_pointer<hub_supervisor_state> self,
  hub_supervisor_config cfg,
  std::map<std::string, std::shared_ptr<storage::rocks_store>> stores,
  hub_poll poll, hub_commit commit);

} // namespace kws
