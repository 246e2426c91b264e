// librdkafka's high-level consumer behind `kafka_consumer`. Offsets are
// committed by hand only (`enable.auto.commit=false`): what was polled but
// not stored is read again after a crash or a rebalance.
#include "storage/kafka_consumer.hpp"

#include "storage/kafka_client.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"

#include <librdkafka/rdkafka.h>

#include <array>

namespace kws::storage {

namespace {

std::string header(const rd_kafka_message_t* msg, const char* name) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return {};
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(hdrs, name, &value, &size)
        != RD_KAFKA_RESP_ERR_NO_ERROR
      || value == nullptr)
    return {};
  return {static_cast<const char*>(value), size};
}

} // namespace

struct kafka_consumer::impl {
  kafka_consumer_options opts;
  rd_kafka_t* rk = nullptr;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() {
    if (rk) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }
};

caf::expected<kafka_consumer>
kafka_consumer::make(kafka_consumer_options opts) {
  if (opts.brokers.empty())
    return caf::make_error(ec::config_error,
                           "hub.kafka.brokers: names no broker");
  if (opts.topic.empty())
    return caf::make_error(ec::config_error, "hub.kafka.topic: is empty");
  if (opts.group.empty())
    return caf::make_error(ec::config_error, "hub.kafka.group: is empty");
  auto ptr = std::make_unique<impl>();
  ptr->opts = std::move(opts);
  auto conf = kafka_conf(
    {
      {"bootstrap.servers", bootstrap_servers(ptr->opts.brokers)},
      {"group.id", ptr->opts.group},
      {"enable.auto.commit", "false"},
      // A new group reads the topic from its start: every record it holds.
      {"auto.offset.reset", "earliest"},
      {"client.id", "k8s-watch-server-hub"},
    },
    ptr->opts.properties, "hub.kafka");
  if (!conf)
    return conf.error();
  std::array<char, 512> err{};
  // On success rd_kafka_new owns the configuration.
  ptr->rk = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err.data(), err.size());
  if (!ptr->rk) {
    rd_kafka_conf_destroy(*conf);
    return caf::make_error(ec::config_error,
                           std::string{"hub.kafka: "} + err.data());
  }
  rd_kafka_poll_set_consumer(ptr->rk);
  auto* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, ptr->opts.topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  auto code = rd_kafka_subscribe(ptr->rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
    return caf::make_error(ec::config_error,
                           "hub.kafka.topic: cannot subscribe to "
                             + ptr->opts.topic + ": " + rd_kafka_err2str(code));
  return kafka_consumer{std::move(ptr)};
}

kafka_consumer::kafka_consumer(std::unique_ptr<impl> ptr)
    : impl_(std::move(ptr)) {}
kafka_consumer::kafka_consumer(kafka_consumer&&) noexcept = default;
kafka_consumer& kafka_consumer::operator=(kafka_consumer&&) noexcept = default;
kafka_consumer::~kafka_consumer() = default;

caf::expected<std::vector<kafka_received>>
kafka_consumer::poll(size_t max, std::chrono::milliseconds wait) {
  std::vector<kafka_received> out;
  auto timeout = static_cast<int>(wait.count());
  while (out.size() < max) {
    auto* msg = rd_kafka_consumer_poll(impl_->rk, out.empty() ? timeout : 0);
    if (msg == nullptr)
      break;
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Not a message: a broker or topic trouble librdkafka retries.
      if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        KWS_WARN("Kafka consumer: {}", rd_kafka_message_errstr(msg));
      rd_kafka_message_destroy(msg);
      std::array<char, 512> why{};
      if (rd_kafka_fatal_error(impl_->rk, why.data(), why.size())
          != RD_KAFKA_RESP_ERR_NO_ERROR)
        return caf::make_error(ec::transport_error,
                               "Kafka consumer failed: "
                                 + std::string{why.data()});
      continue;
    }
    kafka_received r;
    r.partition = msg->partition;
    r.offset = msg->offset;
    if (msg->key != nullptr)
      r.key.assign(static_cast<const char*>(msg->key), msg->key_len);
    if (msg->payload != nullptr)
      r.value.assign(static_cast<const char*>(msg->payload), msg->len);
    r.link = header(msg, "link");
    rd_kafka_message_destroy(msg);
    out.push_back(std::move(r));
  }
  return out;
}

caf::error kafka_consumer::commit(const std::vector<kafka_received>& handled) {
  if (handled.empty())
    return {};
  std::map<int32_t, int64_t> next;
  for (const auto& r : handled) {
    auto& at = next[r.partition];
    at = std::max(at, r.offset + 1);
  }
  auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(next.size()));
  for (const auto& [partition, offset] : next)
    rd_kafka_topic_partition_list_add(list, impl_->opts.topic.c_str(),
                                      partition)
      ->offset
      = offset;
  auto code = rd_kafka_commit(impl_->rk, list, 0);
  rd_kafka_topic_partition_list_destroy(list);
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
    return caf::make_error(ec::transport_error,
                           std::string{"cannot commit Kafka offsets: "}
                             + rd_kafka_err2str(code));
  return {};
}

} // namespace kws::storage
