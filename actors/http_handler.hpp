// The HTTP HANDLER: answers REST requests by asking INDEX and DISCOVERY.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/least_busy.hpp"
#include "rest/mcp/protocol.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

namespace kws {

/// Configuration of the HTTP HANDLER.
struct http_handler_config {
  /// Default and maximum `limit` of a query.
  uint32_t max_query_limit = 1000;
  /// How long INDEX and DISCOVERY may take to answer.
  std::chrono::milliseconds timeout{10'000};
  /// How long STORAGE may take to write a backup.
  std::chrono::milliseconds backup_timeout{std::chrono::minutes{10}};
  /// Backups go only inside this directory (`backupRoot`).
  std::string backup_root = "/data/backups";
  /// What the MCP endpoint accepts and says about itself.
  mcp::options mcp;
};

/// State of the HTTP HANDLER: the peers it asks.
struct http_handler_state {
  explicit http_handler_state(http_handler_actor::pointer self) : self{self} {}

  http_handler_actor::pointer self;
  http_handler_config config;
  /// Equal INDEX actors; each query goes to the one with the fewest in
  /// flight.
  std::vector<index_actor> indexes;
  least_busy index_load{1};
  discovery_actor discovery;
  /// Writes the backups of /admin/backup.
  backup_actor backup;
  /// Who may read what; invalid when authorization is off.
  access_actor access;
  /// DISCOVERY's newest type catalog; null until the first arrives (then
  /// DISCOVERY is asked).
  kube::type_catalog_ptr catalog;

  static inline const char* name = "http-handler";
};

/// Implements the HTTP HANDLER interface. Handles requests concurrently: each
/// waits for its own replies, nothing blocks. `indexes` (at least one) answer
/// the queries; `backup` (STORAGE, or a hub's STORE BACKUP) serves the
/// admin backup endpoint; `access`, when valid, authenticates every query
/// and narrows its answer to what the caller may read.
http_handler_actor::behavior_type
http_handler(http_handler_actor::stateful_pointer<http_handler_state> self,
             http_handler_config cfg, std::vector<index_actor> indexes,
             discovery_actor discovery, backup_actor backup,
             access_actor access);

} // namespace kws
