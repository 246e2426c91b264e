#include "storage/kafka_client.hpp"

#include "util/logging.hpp"

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
