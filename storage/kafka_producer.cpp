// librdkafka behind `kafka_producer`. Each message carries a pointer to its
// slot in the batch's outcome; the delivery report callback, called from
// `rd_kafka_poll` on the sender's thread, fills the slot.
#include "storage/kafka_producer.hpp"

#include "storage/kafka_client.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"

#include <librdkafka/rdkafka.h>

#include <array>
#include <optional>
#include <thread>

namespace kws::storage {

namespace {

/// The outcome of one message: unset until its delivery report arrived.
using slot = std::optional<rd_kafka_resp_err_t>;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  if (auto* s = static_cast<slot*>(msg->_private))
    *s = msg->err;
}

} // namespace

struct kafka_producer::impl {
  kafka_producer_options opts;
  rd_kafka_t* rk = nullptr;
  rd_kafka_topic_t* topic = nullptr;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() {
    if (topic)
      rd_kafka_topic_destroy(topic);
    if (rk) {
      // Whatever is still queued was never acknowledged: the outbox sends
      // it again, so waiting here would only delay shutdown.
      rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(rk, 1000);
      rd_kafka_destroy(rk);
    }
  }
};

caf::expected<kafka_producer>
kafka_producer::make(kafka_producer_options opts) {
  if (opts.brokers.empty())
    return caf::make_error(ec::config_error,
                           "export.kafka.brokers: names no broker");
  if (opts.topic.empty())
    return caf::make_error(ec::config_error, "export.kafka.topic: is empty");
  auto ptr = std::make_unique<impl>();
  ptr->opts = std::move(opts);
  auto conf = kafka_conf(
    {
      {"bootstrap.servers", bootstrap_servers(ptr->opts.brokers)},
      // Retries inside librdkafka neither duplicate nor reorder messages.
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"message.timeout.ms",
       std::to_string(ptr->opts.delivery_timeout.count())},
      {"linger.ms", "5"},
      // lz4: 14 % of ingest throughput at the service's limit (median of 5
      // pairs) against 24 % in a run with zstd
      // (bench/results/2026-12-05-export.md).
      {"compression.type", "lz4"},
      {"client.id", "k8s-watch-server"},
    },
    ptr->opts.properties, "export.kafka");
  if (!conf)
    return conf.error();
  std::array<char, 512> err{};
  rd_kafka_conf_set_dr_msg_cb(*conf, on_delivery);
  // On success rd_kafka_new owns the configuration.
  ptr->rk = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err.data(), err.size());
  if (!ptr->rk) {
    rd_kafka_conf_destroy(*conf);
    return caf::make_error(ec::config_error,
                           std::string{"export.kafka: "} + err.data());
  }
  ptr->topic = rd_kafka_topic_new(ptr->rk, ptr->opts.topic.c_str(), nullptr);
  if (!ptr->topic)
    return caf::make_error(ec::config_error,
                           std::string{"export.kafka.topic: "}
                             + rd_kafka_err2str(rd_kafka_last_error()));
  return kafka_producer{std::move(ptr)};
}

kafka_producer::kafka_producer(std::unique_ptr<impl> ptr)
    : impl_(std::move(ptr)) {}
kafka_producer::kafka_producer(kafka_producer&&) noexcept = default;
kafka_producer& kafka_producer::operator=(kafka_producer&&) noexcept = default;
kafka_producer::~kafka_producer() = default;

const kafka_producer_options& kafka_producer::options() const {
  return impl_->opts;
}

kafka_delivery kafka_producer::send(const std::vector<kafka_message>& batch) {
  auto& s = *impl_;
  std::vector<slot> outcome(batch.size());
  size_t queued = 0;
  for (; queued < batch.size(); ++queued) {
    const auto& m = batch[queued];
    auto* payload = const_cast<char*>(m.value.data());
    auto produce = [&] {
      // librdkafka owns the headers once the message is queued.
      rd_kafka_headers_t* headers = nullptr;
      if (!m.link.empty()) {
        headers = rd_kafka_headers_new(1);
        rd_kafka_header_add(headers, "link", -1, m.link.data(),
                            static_cast<ssize_t>(m.link.size()));
      }
      auto code = rd_kafka_producev(
        s.rk, RD_KAFKA_V_RKT(s.topic),
        RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(payload, m.value.size()),
        RD_KAFKA_V_KEY(m.key.data(), m.key.size()), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(&outcome[queued]), RD_KAFKA_V_END);
      if (code != RD_KAFKA_RESP_ERR_NO_ERROR && headers)
        rd_kafka_headers_destroy(headers);
      return code;
    };
    // A full local queue empties as deliveries come back; wait for them.
    for (auto code = produce(); code != RD_KAFKA_RESP_ERR_NO_ERROR;
         code = produce()) {
      if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        outcome[queued] = code;
        break;
      }
      rd_kafka_poll(s.rk, 100);
    }
    if (outcome[queued])
      break;
  }
  // Every queued message gets exactly one report, by message.timeout.ms at
  // the latest.
  auto done = [&] {
    for (size_t i = 0; i < queued; ++i)
      if (!outcome[i])
        return false;
    return true;
  };
  while (!done())
    rd_kafka_poll(s.rk, 100);
  kafka_delivery result;
  while (result.acknowledged < batch.size() && outcome[result.acknowledged]
         && *outcome[result.acknowledged] == RD_KAFKA_RESP_ERR_NO_ERROR)
    ++result.acknowledged;
  if (result.acknowledged < batch.size()) {
    auto code = outcome[result.acknowledged].value_or(RD_KAFKA_RESP_ERR__FAIL);
    result.error = caf::make_error(ec::transport_error,
                                   "Kafka did not acknowledge a record: "
                                     + std::string{rd_kafka_err2str(code)});
  }
  // An idempotent producer that lost track of its sequence stops for good;
  // a new one (new producer id) goes on from the outbox.
  std::array<char, 512> why{};
  if (rd_kafka_fatal_error(s.rk, why.data(), why.size())
      != RD_KAFKA_RESP_ERR_NO_ERROR) {
    auto fresh = make(s.opts);
    if (fresh)
      impl_ = std::move(fresh->impl_);
    if (!result.error)
      result.error
        = caf::make_error(ec::transport_error,
                          "Kafka producer failed: " + std::string{why.data()});
  }
  return result;
}

} // namespace kws::storage
