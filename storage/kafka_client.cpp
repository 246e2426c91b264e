#include "storage/kafka_client.hpp"

#include "util/errors.hpp"
#include "util/logging.hpp"

#include <librdkafka/rdkafka.h>

#include <array>

namespace kws::storage {

void log_kafka(const rd_kafka_s*, int level, const char* facility,
               const char* text) {
  if (level <= 3)
    KWS_ERROR("Kafka {}: {}", facility, text);
  else if (level == 4)
    KWS_WARN("Kafka {}: {}", facility, text);
  else if (level <= 6)
    KWS_INFO("Kafka {}: {}", facility, text);
  else
    KWS_DEBUG("Kafka {}: {}", facility, text);
}

caf::expected<rd_kafka_conf_s*>
kafka_conf(std::map<std::string, std::string> defaults,
           const std::map<std::string, std::string>& properties,
           const std::string& section) {
  for (const auto& [key, value] : properties)
    defaults[key] = value;
  auto* conf = rd_kafka_conf_new();
  std::array<char, 512> err{};
  for (const auto& [key, value] : defaults)
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err.data(),
                          err.size())
        != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      auto text = section;
      text.append(" (librdkafka's ").append(key).append("): ");
      text.append(err.data());
      return caf::make_error(ec::config_error, std::move(text));
    }
  rd_kafka_conf_set_log_cb(conf, log_kafka);
  return conf;
}

std::string bootstrap_servers(const std::vector<std::string>& brokers) {
  std::string out;
  for (const auto& x : brokers) {
    if (!out.empty())
      out += ',';
    out += x;
  }
  return out;
}

} // namespace kws::storage
