// What the Kafka producer and consumer share: their librdkafka settings,
// librdkafka's log in the service's log, and the broker list as librdkafka
// takes it.
#pragma once

#include <caf/expected.hpp>

#include <map>
#include <string>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_conf_s;

namespace kws::storage {

/// librdkafka's log callback (`rd_kafka_conf_set_log_cb`): its messages
/// (syslog levels) go to the service's log instead of its stderr.
void log_kafka(const rd_kafka_s* rk, int level, const char* facility,
               const char* text);

/// A librdkafka configuration of `defaults` overridden by the operator's
/// `properties`, logging through `log_kafka`; the caller owns it. A setting
/// librdkafka refuses is a config error naming it under `section` (e.g.
/// "hub.kafka (librdkafka's group.id): ...").
caf::expected<rd_kafka_conf_s*>
kafka_conf(std::map<std::string, std::string> defaults,
           const std::map<std::string, std::string>& properties,
           const std::string& section);

/// `bootstrap.servers`: the brokers joined by commas.
std::string bootstrap_servers(const std::vector<std::string>& brokers);

} // namespace kws::storage
