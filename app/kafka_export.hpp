// The EXPORTER's configuration and its Kafka producer, made from
// `export.kafka` before any actor starts, so that a bad setting stops
// startup with its key.
#pragma once

#include "actors/exporter.hpp"
#include "config/settings.hpp"

#include <caf/expected.hpp>

#include <map>
#include <string>

namespace kws::app {

/// What the SUPERVISOR needs to spawn the EXPORTER.
struct kafka_export {
  exporter_config config;
  export_send send;
};

/// librdkafka's security settings of `k` (TLS files, SASL with the password
/// read from its file); errors name the key under `prefix`.
caf::expected<std::map<std::string, std::string>>
kafka_security(const config::kafka_export_settings& k,
               const std::string& prefix);

/// Reads the SASL password file and makes the producer. @pre `k.enabled()`.
caf::expected<kafka_export>
make_kafka_export(const config::kafka_export_settings& k);

} // namespace kws::app
