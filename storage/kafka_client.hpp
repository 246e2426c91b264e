// What the Kafka producer and consumer share: librdkafka's log in the
// service's log, and the broker list as librdkafka takes it.
#pragma once

#include <string>
#include <vector>

struct rd_kafka_s;

namespace kws::storage {

/// librdkafka's log callback (`rd_kafka_conf_set_log_cb`): its messages
/// (syslog levels) go to the service's log instead of its stderr.
void log_kafka(const rd_kafka_s* rk, int level, const char* facility,
               const char* text);

/// `bootstrap.servers`: the brokers joined by commas.
std::string bootstrap_servers(const std::vector<std::string>& brokers);

} // namespace kws::storage
