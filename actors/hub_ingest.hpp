// The HUB INGEST: the export topic (`export.kafka` of many servers) into one
// store per cluster, each record under the id its server gave it
// (`k8s-watch-server hub`).
#pragma once

#include "actors/interfaces.hpp"
#include "storage/hub_batch.hpp"
#include "storage/kafka_consumer.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kws::storage {
class rocks_store;
}

namespace kws {

/// Up to N messages, waiting at most the given time for the first
/// (`kafka_consumer::poll`; tests inject their own).
using hub_poll
  = std::function<caf::expected<std::vector<storage::kafka_received>>(
    size_t, std::chrono::milliseconds)>;

/// Commits the offsets after these messages (`kafka_consumer::commit`).
using hub_commit
  = std::function<caf::error(const std::vector<storage::kafka_received>&)>;

/// One cluster a hub serves.
struct hub_cluster {
  std::shared_ptr<storage::rocks_store> store;
  /// Gets the cluster's type catalog whenever a new type arrives: the
  /// cluster's HTTP HANDLER.
  catalog_sink_actor catalog_sink;
};

/// Configuration of the HUB INGEST.
struct hub_ingest_config {
  /// The topic polled; names the cursors of what each store holds.
  std::string topic;
  /// Messages per poll.
  size_t batch_size = 1000;
  /// How long a poll waits for the first message.
  std::chrono::milliseconds poll_wait{200};
  /// The pause after a poll that found nothing (which waited `poll_wait`
  /// already); a poll that found messages is followed at once.
  std::chrono::milliseconds idle_wait{0};
  uint32_t retention_days = 14;
  std::chrono::milliseconds retention_interval{std::chrono::hours{1}};
  /// Nanoseconds since the epoch (retention, delays); tests set it.
  std::function<int64_t()> now;
};

/// State of the HUB INGEST.
struct hub_ingest_state {
  explicit hub_ingest_state(hub_ingest_actor::pointer self) : self{self} {}

  /// Polls once, stores what is new in each cluster's store (records and
  /// marks in one write), then commits the offsets. Returns whether the
  /// poll found messages. An error is one the hub cannot go on after: a
  /// store failed to write, or the consumer failed for good. Nothing is
  /// committed past a record not stored.
  caf::expected<bool> round();

  /// Sends the cluster's catalog of every type it holds to its sink.
  void publish_types(const std::string& cluster);

  hub_ingest_actor::pointer self;
  hub_ingest_config config;
  std::map<std::string, hub_cluster> clusters;
  /// What each store holds, by partition; read from the store the first
  /// time a partition is seen.
  std::map<std::string, storage::hub_marks> held;
  /// Each cluster's types, by group_resource.
  std::map<std::string, std::map<std::string, resource_type>> types;
  hub_poll poll;
  hub_commit commit;

  static inline const char* name = "hub-ingest";
};

/// Implements the HUB INGEST interface. Quits when a store fails (the hub
/// then exits and starts again from the offsets committed, with nothing
/// lost or stored twice); Kafka's own troubles are retried.
hub_ingest_actor::behavior_type
hub_ingest(hub_ingest_actor::stateful_pointer<hub_ingest_state> self,
           hub_ingest_config cfg, std::map<std::string, hub_cluster> clusters,
           hub_poll poll, hub_commit commit);

} // namespace kws
