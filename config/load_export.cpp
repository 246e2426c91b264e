#include "config/load_export.hpp"

#include "config/yaml_values.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace kws::config::detail {

namespace {

/// Kafka's own rule for topic names.
bool is_topic_name(const std::string& s) {
  return !s.empty() && s.size() <= 249 && s != "." && s != ".."
    && std::all_of(s.begin(), s.end(), [](char c) {
         return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.'
           || c == '_' || c == '-';
       });
}

/// A cluster name becomes part of every message key: a DNS label's
/// characters, so keys and filters never need escaping.
bool is_cluster_name(const std::string& s) {
  return !s.empty() && s.size() <= 63
    && std::isalnum(static_cast<unsigned char>(s.front())) != 0
    && std::all_of(s.begin(), s.end(), [](char c) {
         return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.'
           || c == '_' || c == '-';
       });
}

/// `host:port` with a port in 1..65535.
bool is_broker(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    return false;
  auto port = s.substr(colon + 1);
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
        return c >= '0' && c <= '9';
      }))
    return false;
  auto n = std::stoi(port);
  return n >= 1 && n <= 65535;
}

caf::error apply_files(kafka_export_settings& k, const YAML::Node& n) {
  k.tls = true;
  if (n.IsNull())
    return {};
  if (!n.IsMap())
    return config_error("export.kafka.tls",
                        "expected a mapping (caFile, certFile, keyFile)");
  for (const auto& kv : n) {
    auto key = "export.kafka.tls." + kv.first.as<std::string>();
    auto x = string_value(key, kv.second, false);
    if (!x)
      return x.error();
    if (key == "export.kafka.tls.caFile")
      k.ca_file = *x;
    else if (key == "export.kafka.tls.certFile")
      k.cert_file = *x;
    else if (key == "export.kafka.tls.keyFile")
      k.key_file = *x;
    else
      return config_error(key, "unknown key");
  }
  if (k.cert_file.empty() != k.key_file.empty())
    return config_error(k.cert_file.empty() ? "export.kafka.tls.certFile"
                                            : "export.kafka.tls.keyFile",
                        "needed as well: a client certificate takes its key");
  return {};
}

caf::error apply_sasl(kafka_export_settings& k, const YAML::Node& n) {
  if (!n.IsMap())
    return config_error("export.kafka.sasl",
                        "expected a mapping (mechanism, username, "
                        "passwordFile)");
  for (const auto& kv : n) {
    auto key = "export.kafka.sasl." + kv.first.as<std::string>();
    auto x = string_value(key, kv.second, false);
    if (!x)
      return x.error();
    if (key == "export.kafka.sasl.mechanism") {
      static const std::set<std::string> known{"PLAIN", "SCRAM-SHA-256",
                                               "SCRAM-SHA-512"};
      if (!known.contains(*x))
        return config_error(key,
                            "expected PLAIN, SCRAM-SHA-256 or "
                            "SCRAM-SHA-512, got '"
                              + *x + "'");
      k.sasl_mechanism = *x;
    } else if (key == "export.kafka.sasl.username") {
      k.sasl_username = *x;
    } else if (key == "export.kafka.sasl.passwordFile") {
      k.sasl_password_file = *x;
    } else {
      return config_error(key, "unknown key");
    }
  }
  for (auto [value, key] :
       {std::pair{&k.sasl_mechanism, "export.kafka.sasl.mechanism"},
        std::pair{&k.sasl_username, "export.kafka.sasl.username"},
        std::pair{&k.sasl_password_file, "export.kafka.sasl.passwordFile"}})
    if (value->empty())
      return config_error(key,
                          "needed: SASL takes a mechanism, a username "
                          "and a password file");
  return {};
}

caf::error apply_kafka(kafka_export_settings& k, const YAML::Node& n) {
  if (!n.IsMap())
    return config_error("export.kafka",
                        "expected a mapping (brokers, topic, cluster, "
                        "deliveryTimeoutSeconds, tls, sasl)");
  for (const auto& kv : n) {
    auto key = "export.kafka." + kv.first.as<std::string>();
    const auto& v = kv.second;
    if (key == "export.kafka.brokers") {
      auto x = string_list(key, v, "host:port addresses");
      if (!x)
        return x.error();
      for (size_t i = 0; i < x->size(); ++i)
        if (!is_broker((*x)[i]))
          return config_error(key + "[" + std::to_string(i) + "]",
                              "expected host:port, got '" + (*x)[i] + "'");
      k.brokers = std::move(*x);
    } else if (key == "export.kafka.topic") {
      auto x = string_value(key, v, false);
      if (!x)
        return x.error();
      if (!is_topic_name(*x))
        return config_error(key,
                            "'" + *x
                              + "' is no Kafka topic name (letters, "
                                "digits, '.', '_', '-'; at most 249)");
      k.topic = *x;
    } else if (key == "export.kafka.cluster") {
      auto x = string_value(key, v, false);
      if (!x)
        return x.error();
      if (!is_cluster_name(*x))
        return config_error(key,
                            "'" + *x
                              + "' is no cluster name (a letter or digit, "
                                "then letters, digits, '.', '_', '-'; at "
                                "most 63)");
      k.cluster = *x;
    } else if (key == "export.kafka.deliveryTimeoutSeconds") {
      auto x = int_value(key, v, 1, 3600);
      if (!x)
        return x.error();
      k.delivery_timeout_seconds = static_cast<uint32_t>(*x);
    } else if (key == "export.kafka.tls") {
      if (auto err = apply_files(k, v))
        return err;
    } else if (key == "export.kafka.sasl") {
      if (auto err = apply_sasl(k, v))
        return err;
    } else {
      return config_error(key, "unknown key");
    }
  }
  if (!k.brokers.empty() && k.cluster.empty())
    return config_error("export.kafka.cluster",
                        "needed with export.kafka.brokers: the hub tells "
                        "clusters apart by it");
  return {};
}

} // namespace

caf::error apply_export(kafka_export_settings& k, const YAML::Node& n) {
  if (n.IsNull())
    return {};
  if (!n.IsMap())
    return config_error("export", "expected a mapping (kafka)");
  for (const auto& kv : n) {
    auto key = kv.first.as<std::string>();
    if (key != "kafka")
      return config_error("export." + key, "unknown key");
    if (kv.second.IsNull())
      continue;
    if (auto err = apply_kafka(k, kv.second))
      return err;
  }
  return {};
}

} // namespace kws::config::detail
