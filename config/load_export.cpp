#include "config/load_export.hpp"

#include "config/load.hpp"
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

caf::error apply_files(kafka_export_settings& k, const YAML::Node& n,
                       const std::string& prefix) {
  k.tls = true;
  if (n.IsNull())
    return {};
  if (!n.IsMap())
    return config_error(prefix + ".tls",
                        "expected a mapping (caFile, certFile, keyFile)");
  for (const auto& kv : n) {
    auto name = kv.first.as<std::string>();
    auto key = prefix;
    key.append(".tls.").append(name);
    auto x = string_value(key, kv.second, false);
    if (!x)
      return x.error();
    if (name == "caFile")
      k.ca_file = *x;
    else if (name == "certFile")
      k.cert_file = *x;
    else if (name == "keyFile")
      k.key_file = *x;
    else
      return config_error(key, "unknown key");
  }
  if (k.cert_file.empty() != k.key_file.empty())
    return config_error(
      prefix + (k.cert_file.empty() ? ".tls.certFile" : ".tls.keyFile"),
      "needed as well: a client certificate takes its key");
  return {};
}

caf::error apply_sasl(kafka_export_settings& k, const YAML::Node& n,
                      const std::string& prefix) {
  if (!n.IsMap())
    return config_error(prefix + ".sasl",
                        "expected a mapping (mechanism, username, "
                        "passwordFile)");
  for (const auto& kv : n) {
    auto name = kv.first.as<std::string>();
    auto key = prefix;
    key.append(".sasl.").append(name);
    auto x = string_value(key, kv.second, false);
    if (!x)
      return x.error();
    if (name == "mechanism") {
      static const std::set<std::string> known{"PLAIN", "SCRAM-SHA-256",
                                               "SCRAM-SHA-512"};
      if (!known.contains(*x))
        return config_error(key,
                            "expected PLAIN, SCRAM-SHA-256 or "
                            "SCRAM-SHA-512, got '"
                              + *x + "'");
      k.sasl_mechanism = *x;
    } else if (name == "username") {
      k.sasl_username = *x;
    } else if (name == "passwordFile") {
      k.sasl_password_file = *x;
    } else {
      return config_error(key, "unknown key");
    }
  }
  for (auto [value, key] :
       {std::pair{&k.sasl_mechanism, ".sasl.mechanism"},
        std::pair{&k.sasl_username, ".sasl.username"},
        std::pair{&k.sasl_password_file, ".sasl.passwordFile"}})
    if (value->empty())
      return config_error(prefix + key,
                          "needed: SASL takes a mechanism, a username "
                          "and a password file");
  return {};
}

/// The keys `export.kafka` and `hub.kafka` share (brokers, topic, tls,
/// sasl); false when `name` is none of them.
caf::expected<bool> apply_connection(kafka_export_settings& k,
                                     const std::string& prefix,
                                     const std::string& name,
                                     const YAML::Node& v) {
  auto key = prefix;
  key.append(".").append(name);
  if (name == "brokers") {
    auto x = string_list(key, v, "host:port addresses");
    if (!x)
      return x.error();
    for (size_t i = 0; i < x->size(); ++i)
      if (!is_broker((*x)[i]))
        return config_error(key + "[" + std::to_string(i) + "]",
                            "expected host:port, got '" + (*x)[i] + "'");
    k.brokers = std::move(*x);
  } else if (name == "topic") {
    auto x = string_value(key, v, false);
    if (!x)
      return x.error();
    if (!is_topic_name(*x))
      return config_error(key,
                          "'" + *x
                            + "' is no Kafka topic name (letters, "
                              "digits, '.', '_', '-'; at most 249)");
    k.topic = *x;
  } else if (name == "tls") {
    if (auto err = apply_files(k, v, prefix))
      return err;
  } else if (name == "sasl") {
    if (auto err = apply_sasl(k, v, prefix))
      return err;
  } else {
    return false;
  }
  return true;
}

caf::expected<std::string> cluster_name(const std::string& key,
                                        const YAML::Node& v) {
  auto x = string_value(key, v, false);
  if (!x)
    return x.error();
  if (!is_cluster_name(*x))
    return config_error(key,
                        "'" + *x
                          + "' is no cluster name (a letter or digit, "
                            "then letters, digits, '.', '_', '-'; at "
                            "most 63)");
  return *x;
}

caf::error apply_kafka(kafka_export_settings& k, const YAML::Node& n) {
  const std::string prefix = "export.kafka";
  if (!n.IsMap())
    return config_error(prefix,
                        "expected a mapping (brokers, topic, cluster, "
                        "deliveryTimeoutSeconds, tls, sasl)");
  for (const auto& kv : n) {
    auto name = kv.first.as<std::string>();
    auto key = prefix;
    key.append(".").append(name);
    const auto& v = kv.second;
    auto shared = apply_connection(k, prefix, name, v);
    if (!shared)
      return shared.error();
    if (*shared)
      continue;
    if (name == "cluster") {
      auto x = cluster_name(key, v);
      if (!x)
        return x.error();
      k.cluster = *x;
    } else if (name == "deliveryTimeoutSeconds") {
      auto x = int_value(key, v, 1, 3600);
      if (!x)
        return x.error();
      k.delivery_timeout_seconds = static_cast<uint32_t>(*x);
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

caf::error apply_hub_kafka(hub_settings& h, const YAML::Node& n) {
  const std::string prefix = "hub.kafka";
  if (!n.IsMap())
    return config_error(prefix,
                        "expected a mapping (brokers, topic, group, "
                        "tls, sasl)");
  for (const auto& kv : n) {
    auto name = kv.first.as<std::string>();
    const auto& v = kv.second;
    auto shared = apply_connection(h.kafka, prefix, name, v);
    if (!shared)
      return shared.error();
    if (*shared)
      continue;
    auto key = prefix;
    key.append(".").append(name);
    if (name != "group")
      return config_error(key, "unknown key");
    auto x = string_value(key, v, false);
    if (!x)
      return x.error();
    h.group = *x;
  }
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

caf::error apply_hub(hub_settings& h, const YAML::Node& n) {
  if (n.IsNull())
    return {};
  if (!n.IsMap())
    return config_error("hub", "expected a mapping (kafka, clusters)");
  for (const auto& kv : n) {
    auto name = kv.first.as<std::string>();
    auto key = "hub." + name;
    if (name == "kafka") {
      if (kv.second.IsNull())
        continue;
      if (auto err = apply_hub_kafka(h, kv.second))
        return err;
    } else if (name == "clusters") {
      auto x = string_list(key, kv.second, "cluster names");
      if (!x)
        return x.error();
      std::set<std::string> seen;
      for (size_t i = 0; i < x->size(); ++i) {
        auto item = key + "[" + std::to_string(i) + "]";
        auto c = cluster_name(item, YAML::Node{(*x)[i]});
        if (!c)
          return c.error();
        if (!seen.insert(*c).second)
          return config_error(item, "'" + *c + "' is named twice");
      }
      h.clusters = std::move(*x);
    } else {
      return config_error(key, "unknown key");
    }
  }
  return {};
}

} // namespace kws::config::detail

namespace kws::config {

caf::error apply_hub_flags(settings& s, const hub_flags& flags) {
  // As the keys of a file, so that the same checks apply.
  YAML::Node kafka{YAML::NodeType::Map};
  for (const auto& b : flags.brokers)
    kafka["brokers"].push_back(b);
  if (!flags.topic.empty())
    kafka["topic"] = flags.topic;
  if (!flags.group.empty())
    kafka["group"] = flags.group;
  YAML::Node hub{YAML::NodeType::Map};
  if (kafka.size() > 0)
    hub["kafka"] = kafka;
  for (const auto& c : flags.clusters)
    hub["clusters"].push_back(c);
  return detail::apply_hub(s.hub, hub);
}

} // namespace kws::config
