// The EXPORTER: every stored record, in the order it was stored, to a Kafka
// topic (`export.kafka`), for a hub that answers for many clusters.
#pragma once

#include "actors/interfaces.hpp"
#include "storage/kafka_producer.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kws::storage {
class rocks_store;
}

namespace kws {

/// Sends one batch and says how much of it the far side acknowledged
/// (`kafka_producer::send`; tests inject their own).
using export_send = std::function<storage::kafka_delivery(
  const std::vector<storage::kafka_message>&)>;

/// Configuration of the EXPORTER.
struct exporter_config {
  /// Names this cluster in every message (`export.kafka.cluster`).
  std::string cluster;
  /// Names the cursor in the store: a new topic starts from the first
  /// record still stored.
  std::string cursor_name;
  /// Records per batch sent.
  size_t batch_size = 1000;
  /// How often the store is looked at while there is nothing to send.
  std::chrono::milliseconds idle_interval{200};
  /// The wait after a failed batch doubles from `min_backoff` up to
  /// `max_backoff` while failures go on.
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
};

/// State of the EXPORTER.
struct exporter_state {
  explicit exporter_state(exporter_actor::pointer self) : self{self} {}

  /// Sends the store's coverage when it changed, then the records
  /// after the cursor (one batch), and moves the cursor past what was
  /// acknowledged. Returns how long to wait before the next round: zero
  /// when a full batch went out (more may wait).
  std::chrono::milliseconds round();

  /// Sends every coverage gap and first-watch time of the store
  /// (`coverage_message.hpp`) unless the broker acknowledged the same last.
  caf::error send_coverage();

  exporter_actor::pointer self;
  exporter_config config;
  std::shared_ptr<storage::rocks_store> store;
  export_send send;
  /// Every record up to this sequence number was acknowledged.
  uint64_t cursor = 0;
  /// The current wait after a failure; zero after a success.
  std::chrono::milliseconds backoff{0};
  /// The coverage message acknowledged last ("" before the first).
  std::string coverage_sent;
  /// The store's `coverage_changes()` when `coverage_sent` was made; a
  /// round skips reading coverage while it stays.
  std::optional<uint64_t> coverage_seen;

  static inline const char* name = "exporter";
};

/// Implements the EXPORTER interface. Quits when the store cannot tell its
/// cursor; every later failure is retried.
exporter_actor::behavior_type
exporter(exporter_actor::stateful_pointer<exporter_state> self,
         exporter_config cfg, std::shared_ptr<storage::rocks_store> store,
         export_send send);

} // namespace kws
