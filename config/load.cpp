#include "config/load.hpp"

#include "config/load_auth.hpp"
#include "config/load_export.hpp"
#include "config/yaml_values.hpp"
#include "kube/selector.hpp"
#include "util/errors.hpp"
#include "util/file_text.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <utility>

namespace kws::config {

using namespace detail;

namespace {

/// True for a numeric IPv4 or IPv6 address (no name, no port).
bool is_ip_address(const std::string& text) {
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, text.c_str(), &v4) == 1
    || inet_pton(AF_INET6, text.c_str(), &v6) == 1;
}

/// A list of namespace names (DNS labels), no duplicates.
caf::expected<std::vector<std::string>> namespace_list(const std::string& key,
                                                       const YAML::Node& n) {
  std::vector<std::string> result;
  if (n.IsNull())
    return result;
  if (!n.IsSequence())
    return config_error(key, "expected a list of namespaces");
  for (size_t i = 0; i < n.size(); ++i) {
    auto item = key + "[" + std::to_string(i) + "]";
    auto name = string_value(item, n[i], false);
    if (!name)
      return name.error();
    auto alnum
      = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    bool label
      = name->size() <= 63 && alnum(name->front()) && alnum(name->back());
    for (char c : *name)
      label = label
        && (std::islower(static_cast<unsigned char>(c))
            || std::isdigit(static_cast<unsigned char>(c)) || c == '-');
    if (!label)
      return config_error(item,
                          "'" + *name
                            + "' is not a namespace name (lowercase "
                              "letters, digits and '-', at most 63)");
    if (std::find(result.begin(), result.end(), *name) != result.end())
      return config_error(item, "duplicate namespace " + *name);
    result.push_back(std::move(*name));
  }
  return result;
}

/// The filter keys of one resource entry.
caf::error parse_filter(const std::string& prefix, const YAML::Node& n,
                        bool namespaced, watch_filter& out) {
  for (const char* key : {"namespaces", "excludeNamespaces"}) {
    auto node = n[key];
    if (!node)
      continue;
    if (!namespaced)
      return config_error(prefix + "." + key,
                          "the resource is cluster-scoped (namespaced: false)");
    auto list = namespace_list(prefix + "." + key, node);
    if (!list)
      return list.error();
    (std::string_view{key} == "namespaces" ? out.namespaces
                                           : out.exclude_namespaces)
      = std::move(*list);
  }
  if (auto node = n["labelSelector"]) {
    auto text = string_value(prefix + ".labelSelector", node, true);
    if (!text)
      return text.error();
    if (auto parsed = kube::parse_label_selector(*text); !parsed)
      return config_error(prefix + ".labelSelector",
                          error_detail(parsed.error()));
    out.label_selector = std::move(*text);
  }
  if (auto node = n["fieldSelector"]) {
    auto text = string_value(prefix + ".fieldSelector", node, true);
    if (!text)
      return text.error();
    if (auto parsed = kube::parse_field_selector(*text); !parsed)
      return config_error(prefix + ".fieldSelector",
                          error_detail(parsed.error()));
    out.field_selector = std::move(*text);
  }
  if (auto node = n["statusUpdates"]) {
    auto text = string_value(prefix + ".statusUpdates", node, false);
    if (!text)
      return text.error();
    if (*text != "keep" && *text != "drop")
      return config_error(prefix + ".statusUpdates",
                          "expected keep or drop, got '" + *text + "'");
    out.status = *text == "drop" ? status_updates::drop : status_updates::keep;
  }
  return {};
}

caf::expected<resource_type> parse_resource(const std::string& prefix,
                                            const YAML::Node& n,
                                            watch_filter& filter) {
  if (!n.IsMap())
    return config_error(prefix,
                        "expected a mapping with group, version, "
                        "kind, plural and namespaced");
  static const std::set<std::string> known{"group",
                                           "version",
                                           "kind",
                                           "plural",
                                           "namespaced",
                                           "namespaces",
                                           "excludeNamespaces",
                                           "labelSelector",
                                           "fieldSelector",
                                           "statusUpdates"};
  for (const auto& kv : n) {
    auto key = kv.first.as<std::string>();
    if (!known.contains(key))
      return config_error(prefix + "." + std::move(key), "unknown key");
  }
  resource_type result;
  auto field
    = [&](const char* name, bool allow_empty, std::string& out) -> caf::error {
    auto node = n[name];
    if (!node) {
      if (allow_empty)
        return {};
      return config_error(prefix + "." + name, "missing");
    }
    auto value = string_value(prefix + "." + name, node, allow_empty);
    if (!value)
      return value.error();
    out = std::move(*value);
    return {};
  };
  if (auto err = field("group", true, result.group))
    return err;
  if (auto err = field("version", false, result.version))
    return err;
  if (auto err = field("kind", false, result.kind))
    return err;
  if (auto err = field("plural", false, result.plural))
    return err;
  for (char c : result.plural)
    if (!(std::islower(static_cast<unsigned char>(c))
          || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
      return config_error(prefix + ".plural",
                          "must be a lowercase resource name, got '"
                            + result.plural + "'");
  if (auto node = n["namespaced"]) {
    auto value = bool_value(prefix + ".namespaced", node);
    if (!value)
      return value.error();
    result.namespaced = *value;
  }
  if (auto err = parse_filter(prefix, n, result.namespaced, filter))
    return err;
  return result;
}

/// Every configured type must keep a namespace to record.
caf::error check_filters(const settings& s) {
  auto probe = resource_type{"", "v1", "Pod", "pods", true};
  watch_filter global;
  global.namespaces = s.filters.namespaces;
  global.exclude_namespaces = s.filters.exclude_namespaces;
  if (auto sel = kube::make_selection(probe, global); !sel)
    return config_error("namespaces", error_detail(sel.error()));
  for (size_t i = 0; i < s.resources.size(); ++i) {
    const auto& rt = s.resources[i];
    if (auto sel = kube::make_selection(rt, s.filters.for_type(rt)); !sel)
      return config_error("resources[" + std::to_string(i) + "].namespaces",
                          error_detail(sel.error()));
  }
  return {};
}

/// The yes/no settings.
struct bool_key {
  const char* key;
  bool settings::*field;
};

constexpr bool_key bool_keys[] = {
  {"discoverCRDs", &settings::discover_crds},
  {"watchAll", &settings::watch_all},
  {"digestSecretValues", &settings::digest_secret_values},
  {"accessLog", &settings::access_log},
};

/// The whole-number settings and their ranges.
struct count_key {
  const char* key;
  int64_t min;
  int64_t max;
  uint32_t settings::*field;
};

constexpr count_key count_keys[] = {
  {"retentionDays", 1, 3650, &settings::retention_days},
  {"maxQueryLimit", 1, 100000, &settings::max_query_limit},
  {"answerBufferMiB", 1, 65536, &settings::answer_buffer_mib},
  {"queryWorkers", 1, 64, &settings::query_workers},
  {"readThreads", 1, 64, &settings::read_threads},
  {"batchSize", 1, 100000, &settings::batch_size},
  {"flushIntervalMs", 1, 60000, &settings::flush_interval_ms},
  {"maxWatchLagSeconds", 1, 86400, &settings::max_watch_lag_seconds},
};

template <class Key, size_t N>
const Key* find_key(const Key (&keys)[N], const std::string& key) {
  for (const auto& k : keys)
    if (key == k.key)
      return &k;
  return nullptr;
}

/// An absolute directory without "." or ".." segments, without its
/// trailing slash.
caf::expected<std::string> directory_value(const std::string& key,
                                           const std::string& text) {
  if (text.empty() || text.front() != '/')
    return config_error(key,
                        "expected an absolute directory, got '" + text + "'");
  std::filesystem::path path{text};
  for (const auto& part : path)
    if (part == "." || part == "..")
      return config_error(
        key, "must not contain . or .. segments, got '" + text + "'");
  auto normal = path.lexically_normal();
  if (!normal.has_filename() && normal != normal.root_path())
    normal = normal.parent_path();
  return normal.string();
}

caf::error apply_tls(tls_settings& t, const YAML::Node& n) {
  if (n.IsNull())
    return {};
  if (!n.IsMap())
    return config_error("tls", "expected a mapping (certFile, keyFile)");
  for (const auto& kv : n) {
    auto key = "tls." + kv.first.as<std::string>();
    if (key != "tls.certFile" && key != "tls.keyFile")
      return config_error(key, "unknown key");
    auto x = string_value(key, kv.second, true);
    if (!x)
      return x.error();
    (key == "tls.certFile" ? t.cert_file : t.key_file) = *x;
  }
  if (t.cert_file.empty() != t.key_file.empty())
    return config_error(t.cert_file.empty() ? "tls.certFile" : "tls.keyFile",
                        "needed as well: HTTPS takes a certificate and its "
                        "key");
  return {};
}

caf::error apply_yaml(settings& s, const YAML::Node& root) {
  if (root.IsNull())
    return {};
  if (!root.IsMap())
    return config_error("(top level)", "expected a mapping of settings");
  for (const auto& kv : root) {
    auto key = kv.first.as<std::string>();
    const auto& v = kv.second;
    if (const auto* b = find_key(bool_keys, key)) {
      auto x = bool_value(key, v);
      if (!x)
        return x.error();
      s.*(b->field) = *x;
    } else if (const auto* n = find_key(count_keys, key)) {
      auto x = int_value(key, v, n->min, n->max);
      if (!x)
        return x.error();
      s.*(n->field) = static_cast<uint32_t>(*x);
    } else if (key == "storagePath") {
      auto x = string_value(key, v, false);
      if (!x)
        return x.error();
      s.storage_path = *x;
    } else if (key == "backupRoot") {
      auto x = string_value(key, v, false);
      if (!x)
        return x.error();
      auto dir = directory_value(key, *x);
      if (!dir)
        return dir.error();
      s.backup_root = *dir;
    } else if (key == "listenAddress") {
      auto x = string_value(key, v, false);
      if (!x)
        return x.error();
      if (!is_ip_address(*x))
        return config_error(key,
                            "expected an IPv4 or IPv6 address such as "
                            "0.0.0.0, 127.0.0.1 or ::, got '"
                              + *x + "'");
      s.listen_address = *x;
    } else if (key == "serverPort" || key == "adminPort"
               || key == "probePort") {
      auto x = int_value(key, v, key == "serverPort" ? 1 : 0, 65535);
      if (!x)
        return x.error();
      (key == "serverPort"    ? s.server_port
         : key == "adminPort" ? s.admin_port
                              : s.probe_port)
        = static_cast<uint16_t>(*x);
    } else if (key == "logFormat") {
      auto x = v.IsScalar() ? v.Scalar() : std::string{};
      if (x == "text")
        s.log_format = log_format::text;
      else if (x == "json")
        s.log_format = log_format::json;
      else
        return config_error(key, "expected text or json, got '" + x + "'");
    } else if (key == "resources") {
      if (v.IsNull())
        continue;
      if (!v.IsSequence())
        return config_error(key, "expected a list of resource types");
      std::vector<resource_type> resources;
      std::set<std::string> seen;
      for (size_t i = 0; i < v.size(); ++i) {
        auto prefix = "resources[" + std::to_string(i) + "]";
        watch_filter filter;
        auto rt = parse_resource(prefix, v[i], filter);
        if (!rt)
          return rt.error();
        if (!seen.insert(rt->group_resource()).second)
          return config_error(prefix,
                              "duplicate resource " + rt->group_resource());
        if (!filter.records_everything())
          s.filters.by_type[rt->group_resource()] = std::move(filter);
        resources.push_back(std::move(*rt));
      }
      if (!resources.empty())
        s.resources = std::move(resources);
    } else if (key == "auth") {
      if (auto err = apply_auth(s.auth, v))
        return err;
    } else if (key == "tls") {
      if (auto err = apply_tls(s.tls, v))
        return err;
    } else if (key == "hub") {
      if (auto err = apply_hub(s.hub, v))
        return err;
    } else if (key == "export") {
      if (auto err = apply_export(s.kafka_export, v))
        return err;
    } else if (key == "namespaces" || key == "excludeNamespaces") {
      auto x = namespace_list(key, v);
      if (!x)
        return x.error();
      (key == "namespaces" ? s.filters.namespaces
                           : s.filters.exclude_namespaces)
        = std::move(*x);
    } else {
      return config_error(key, "unknown key");
    }
  }
  return check_filters(s);
}

caf::error apply_env(settings& s, const env_lookup& env) {
  // BADGER_PATH is the seed manifests' name; STORAGE_PATH wins when both
  // are set.
  for (const char* name : {"BADGER_PATH", "STORAGE_PATH"}) {
    if (auto value = env(name)) {
      if (value->empty())
        return config_error(name, "must not be empty");
      s.storage_path = *value;
    }
  }
  if (auto value = env("AUTH_MODE")) {
    auto mode = parse_auth_mode("AUTH_MODE", *value);
    if (!mode)
      return mode.error();
    s.auth.mode = *mode;
  }
  if (auto value = env("BACKUP_ROOT")) {
    auto dir = directory_value("BACKUP_ROOT", *value);
    if (!dir)
      return dir.error();
    s.backup_root = *dir;
  }
  if (auto value = env("SERVER_PORT")) {
    auto port = parse_int("SERVER_PORT", *value, 1, 65535);
    if (!port)
      return port.error();
    s.server_port = static_cast<uint16_t>(*port);
  }
  for (auto [name, field] : {std::pair{"ADMIN_PORT", &settings::admin_port},
                             std::pair{"PROBE_PORT", &settings::probe_port}}) {
    if (auto value = env(name)) {
      auto port = parse_int(name, *value, 0, 65535);
      if (!port)
        return port.error();
      s.*field = static_cast<uint16_t>(*port);
    }
  }
  if (s.admin_port != 0 && s.admin_port == s.server_port)
    return config_error("adminPort",
                        "must differ from serverPort ("
                          + std::to_string(s.server_port) + ")");
  if (s.probe_port != 0
      && (s.probe_port == s.server_port || s.probe_port == s.admin_port))
    return config_error("probePort",
                        "must differ from serverPort and adminPort ("
                          + std::to_string(s.probe_port) + ")");
  return {};
}

} // namespace

env_lookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name))
      return std::string{value};
    return std::nullopt;
  };
}

caf::expected<settings> parse_yaml(const std::string& text) {
  settings result;
  result.resources = default_resources();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return caf::make_error(
      ec::config_error,
      "invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column "
        + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  try {
    if (auto err = apply_yaml(result, root))
      return err;
    if (auto err = check_auth(result))
      return err;
  } catch (const YAML::Exception& e) {
    return caf::make_error(ec::config_error,
                           std::string{"invalid YAML: "} + e.what());
  }
  return result;
}

std::string resolve_path(const std::string& path, const env_lookup& env) {
  if (!path.empty())
    return path;
  if (auto value = env("CONFIG_PATH"); value && !value->empty())
    return *value;
  return default_config_path;
}

watch_settings watch_part(const settings& s) {
  watch_settings result;
  result.resources = s.resources;
  result.watch_all = s.watch_all;
  result.discover_crds = s.discover_crds;
  result.digest_secret_values = s.digest_secret_values;
  result.max_watch_lag_ms = int64_t{s.max_watch_lag_seconds} * 1000;
  result.filters = s.filters;
  return result;
}

caf::expected<settings> load(const std::string& path, const env_lookup& env) {
  auto file = resolve_path(path, env);
  bool named = !path.empty();
  settings result;
  result.resources = default_resources();
  std::string text;
  if (!read_file_text(file, text)) {
    // An explicitly named file that is missing is a mistake worth stopping
    // for; the default location may legitimately be empty.
    if (named)
      return caf::make_error(ec::config_error, "--config: cannot read " + file);
    result.source = "defaults (no file at " + file + ")";
  } else {
    auto parsed = parse_yaml(text);
    if (!parsed)
      return caf::make_error(ec::config_error,
                             file + ": " + error_detail(parsed.error()));
    result = std::move(*parsed);
    result.source = file;
  }
  if (auto err = apply_env(result, env))
    return err;
  if (auto err = check_auth(result))
    return err;
  return result;
}

} // namespace kws::config
