// A Kafka consumer in a consumer group that hands out messages in batches
// and commits offsets only when told: a hub commits after the records are
// stored, so a crash replays what was not yet stored. librdkafka's
// high-level consumer; no actor code: the HUB INGEST owns one.
#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kws::storage {

/// How the consumer reaches its brokers.
struct kafka_consumer_options {
  /// `host:port` of one or more brokers of the cluster.
  std::vector<std::string> brokers;
  std::string topic;
  /// The consumer group: hubs of one group split the topic's partitions.
  std::string group;
  /// Further librdkafka settings (`security.protocol`, `ssl.ca.location`,
  /// `sasl.mechanisms`, ...), checked by librdkafka when the consumer is
  /// made.
  std::map<std::string, std::string> properties;
};

/// One message as received.
struct kafka_received {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  /// The `link` header ("" when absent).
  std::string link = {};
};

/// Reads one topic in a consumer group. Move-only; one caller.
class kafka_consumer {
public:
  /// Makes the consumer and subscribes to the topic; an error names the
  /// setting librdkafka rejected. A broker that is down is not an error:
  /// `poll` finds messages once it answers.
  static caf::expected<kafka_consumer> make(kafka_consumer_options opts);

  kafka_consumer(kafka_consumer&&) noexcept;
  kafka_consumer& operator=(kafka_consumer&&) noexcept;
  kafka_consumer(const kafka_consumer&) = delete;
  kafka_consumer& operator=(const kafka_consumer&) = delete;
  /// Leaves the group; offsets not committed are read again by whoever
  /// takes the partitions.
  ~kafka_consumer();

  /// Up to `max` messages, waiting at most `wait` for the first; fewer when
  /// no more came at once. Those of a partition taken away meanwhile are
  /// left out: its next reader reads them from the committed offset. Broker and
  /// transport troubles are retried inside librdkafka and logged; an error here
  /// is one the consumer cannot go on after (e.g. the topic does not exist).
  caf::expected<std::vector<kafka_received>>
  poll(size_t max, std::chrono::milliseconds wait);

  /// How many of the topic's partitions the group gives this consumer now
  /// (known after a poll).
  size_t partitions() const;

  /// Commits, for each partition in `handled`, the offset after the last of
  /// its messages, and waits for the broker's answer.
  caf::error commit(const std::vector<kafka_received>& handled);

  struct impl;

private:
  explicit kafka_consumer(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

} // namespace kws::storage
