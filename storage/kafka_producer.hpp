// A Kafka producer that sends a batch and waits until the broker has
// acknowledged each message or given up on it: librdkafka's idempotent
// producer (acks from every in-sync replica, no duplicates from its own
// retries, order kept per partition). No actor code; the EXPORTER owns one.
#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kws::storage {

/// How the producer reaches its brokers.
struct kafka_producer_options {
  /// `host:port` of one or more brokers of the cluster.
  std::vector<std::string> brokers;
  std::string topic;
  /// How long librdkafka keeps trying to deliver one message (reconnects
  /// and retries included) before it reports the message failed.
  std::chrono::milliseconds delivery_timeout{30000};
  /// Further librdkafka settings (`security.protocol`, `ssl.ca.location`,
  /// `sasl.mechanisms`, ...), checked by librdkafka when the producer is
  /// made.
  std::map<std::string, std::string> properties;
};

/// One message: the partition is chosen by hashing the key.
struct kafka_message {
  std::string key;
  std::string value;
  /// The `link` header ("" for none): what an Event record is about
  /// (`hub_record.hpp`).
  std::string link = {};
};

/// What became of a batch.
struct kafka_delivery {
  /// How many messages from the front of the batch the broker acknowledged
  /// with none before them missing: the prefix that is safe to forget.
  size_t acknowledged = 0;
  /// Why the message after that prefix was not acknowledged; none when the
  /// whole batch was.
  caf::error error;
};

/// Sends batches to one topic. Move-only; not thread-safe (one caller).
class kafka_producer {
public:
  /// Makes the producer; an error names the setting librdkafka rejected.
  /// Does not connect yet: a broker that is down is found by `send`.
  static caf::expected<kafka_producer> make(kafka_producer_options opts);

  kafka_producer(kafka_producer&&) noexcept;
  kafka_producer& operator=(kafka_producer&&) noexcept;
  kafka_producer(const kafka_producer&) = delete;
  kafka_producer& operator=(const kafka_producer&) = delete;
  ~kafka_producer();

  /// Sends `batch` and blocks until every message is acknowledged or has
  /// failed (at most about `delivery_timeout`).
  kafka_delivery send(const std::vector<kafka_message>& batch);

  const kafka_producer_options& options() const;

  struct impl;

private:
  explicit kafka_producer(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

} // namespace kws::storage
