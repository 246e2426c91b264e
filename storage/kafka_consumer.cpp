// librdkafka's high-level consumer behind `kafka_consumer`. Offsets are
// committed by hand only (`enable.auto.commit=false`): what was polled but
// not stored is read again after a crash or a rebalance. A rebalance runs
// inside a poll; the messages a batch holds of a partition taken away then
// are left out of it, so that whoever takes the partition reads them from
// the committed offset and no message is stored by two hubs.
#include "storage/kafka_consumer.hpp"

#include "storage/kafka_client.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"

#include <librdkafka/rdkafka.h>

#include <array>
#include <set>
#include <string_view>

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

std::string partition_names(const std::set<int32_t>& parts) {
  std::string names;
  for (auto p : parts)
    names += (names.empty() ? "" : ", ") + std::to_string(p);
  return names.empty() ? "none" : names;
}

} // namespace

struct kafka_consumer::impl {
  kafka_consumer_options opts;
  rd_kafka_t* rk = nullptr;
  /// The partitions this consumer reads now.
  std::set<int32_t> assigned;
  /// Partitions taken away since the poll loop last looked.
  std::set<int32_t> revoked;

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

namespace {

/// librdkafka's rebalance callback, on the polling thread: takes the
/// assignment (eagerly or incrementally, as the group's protocol is) and
/// notes what it holds and what it lost.
void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
               rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto& self = *static_cast<kafka_consumer::impl*>(opaque);
  const bool cooperative
    = std::string_view{rd_kafka_rebalance_protocol(rk)} == "COOPERATIVE";
  const bool assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
  if (!assign && err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
    KWS_WARN("Kafka consumer rebalance: {}", rd_kafka_err2str(err));
  // Anything but an assignment gives up what it names (librdkafka's rule
  // for rebalance errors too).
  for (int i = 0; i < parts->cnt; ++i) {
    auto p = parts->elems[i].partition;
    if (assign) {
      self.assigned.insert(p);
    } else {
      self.assigned.erase(p);
      self.revoked.insert(p);
    }
  }
  std::string failure;
  if (cooperative) {
    rd_kafka_error_t* e = assign ? rd_kafka_incremental_assign(rk, parts)
                                 : rd_kafka_incremental_unassign(rk, parts);
    if (e != nullptr) {
      failure = rd_kafka_error_string(e);
      rd_kafka_error_destroy(e);
    }
  } else if (auto code = rd_kafka_assign(rk, assign ? parts : nullptr);
             code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_err2str(code);
  }
  if (!failure.empty())
    KWS_ERROR("Kafka consumer cannot take its assignment: {}", failure);
  KWS_INFO("Kafka consumer reads partitions {} of topic {}",
           partition_names(self.assigned), self.opts.topic);
}

} // namespace

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
  // The impl stays where it is when the consumer moves.
  rd_kafka_conf_set_opaque(*conf, ptr.get());
  rd_kafka_conf_set_rebalance_cb(*conf, rebalance);
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
    if (!impl_->revoked.empty()) {
      std::erase_if(out, [&](const kafka_received& r) {
        return impl_->revoked.contains(r.partition);
      });
      impl_->revoked.clear();
    }
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

size_t kafka_consumer::partitions() const {
  return impl_->assigned.size();
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
