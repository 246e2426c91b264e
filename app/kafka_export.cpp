#include "app/kafka_export.hpp"

#include "storage/kafka_producer.hpp"
#include "util/errors.hpp"
#include "util/file_text.hpp"

#include <memory>

namespace kws::app {

namespace {

caf::expected<std::string> read_secret(const std::string& path,
                                       const char* key) {
  std::string s;
  if (!read_file_text(path, s))
    return caf::make_error(ec::config_error,
                           std::string{key} + ": cannot read " + path);
  // A Secret mounted from `kubectl create secret --from-file` often ends in
  // a newline that is not part of the password.
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  if (s.empty())
    return caf::make_error(ec::config_error,
                           std::string{key} + ": " + path + " is empty");
  return s;
}

} // namespace

caf::expected<std::map<std::string, std::string>>
kafka_security(const config::kafka_export_settings& k,
               const std::string& prefix) {
  std::map<std::string, std::string> p;
  if (k.tls) {
    if (!k.ca_file.empty())
      p["ssl.ca.location"] = k.ca_file;
    if (!k.cert_file.empty()) {
      p["ssl.certificate.location"] = k.cert_file;
      p["ssl.key.location"] = k.key_file;
    }
  }
  if (!k.sasl_mechanism.empty()) {
    auto password = read_secret(k.sasl_password_file,
                                (prefix + ".sasl.passwordFile").c_str());
    if (!password)
      return password.error();
    p["sasl.mechanisms"] = k.sasl_mechanism;
    p["sasl.username"] = k.sasl_username;
    p["sasl.password"] = *password;
  }
  p["security.protocol"] = k.tls
    ? (k.sasl_mechanism.empty() ? "ssl" : "sasl_ssl")
    : (k.sasl_mechanism.empty() ? "plaintext" : "sasl_plaintext");
  return p;
}

caf::expected<kafka_export>
make_kafka_export(const config::kafka_export_settings& k) {
  storage::kafka_producer_options opts;
  opts.brokers = k.brokers;
  opts.topic = k.topic;
  opts.delivery_timeout = std::chrono::seconds{k.delivery_timeout_seconds};
  auto security = kafka_security(k, "export.kafka");
  if (!security)
    return security.error();
  opts.properties = std::move(*security);
  auto producer = storage::kafka_producer::make(std::move(opts));
  if (!producer)
    return producer.error();
  auto shared = std::make_shared<storage::kafka_producer>(std::move(*producer));
  kafka_export result;
  result.config.cluster = k.cluster;
  result.config.cursor_name = "kafka/" + k.topic;
  result.send = [shared](const std::vector<storage::kafka_message>& batch) {
    return shared->send(batch);
  };
  return result;
}

} // namespace kws::app
