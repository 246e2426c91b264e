#include "config/load_auth.hpp"

#include "config/yaml_values.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>

namespace kws::config::detail {

namespace {

/// An HTTP header name (RFC 9110 token characters), at most 256 bytes.
bool is_header_name(const std::string& text) {
  static const std::string extra = "!#$%&'*+-.^_`|~";
  if (text.empty() || text.size() > 256)
    return false;
  for (char c : text)
    if (std::isalnum(static_cast<unsigned char>(c)) == 0
        && extra.find(c) == std::string::npos)
      return false;
  return true;
}

caf::expected<std::vector<std::string>> header_list(const std::string& key,
                                                    const YAML::Node& n) {
  auto names = string_list(key, n, "header names");
  if (!names)
    return names.error();
  for (size_t i = 0; i < names->size(); ++i)
    if (!is_header_name((*names)[i]))
      return config_error(key + "[" + std::to_string(i) + "]",
                          "'" + (*names)[i] + "' is not an HTTP header name");
  return names;
}

caf::error apply_proxy(proxy_settings& p, const YAML::Node& n) {
  if (n.IsNull())
    return {};
  if (!n.IsMap())
    return config_error("auth.proxy",
                        "expected a mapping (clientCAFile, allowedNames, "
                        "usernameHeaders, groupHeaders, "
                        "extraHeadersPrefixes)");
  for (const auto& kv : n) {
    auto key = "auth.proxy." + kv.first.as<std::string>();
    const auto& v = kv.second;
    if (key == "auth.proxy.clientCAFile") {
      auto x = string_value(key, v, false);
      if (!x)
        return x.error();
      p.client_ca_file = *x;
    } else if (key == "auth.proxy.allowedNames") {
      auto x = string_list(key, v, "certificate common names");
      if (!x)
        return x.error();
      p.allowed_names = std::move(*x);
    } else if (key == "auth.proxy.usernameHeaders"
               || key == "auth.proxy.groupHeaders"
               || key == "auth.proxy.extraHeadersPrefixes") {
      auto x = header_list(key, v);
      if (!x)
        return x.error();
      if (key == "auth.proxy.usernameHeaders" && x->empty())
        return config_error(key, "must name at least one header");
      (key == "auth.proxy.usernameHeaders"  ? p.username_headers
         : key == "auth.proxy.groupHeaders" ? p.group_headers
                                            : p.extra_headers_prefixes)
        = std::move(*x);
    } else {
      return config_error(key, "unknown key");
    }
  }
  return {};
}

} // namespace

caf::expected<auth_mode> parse_auth_mode(const std::string& key,
                                         const std::string& text) {
  if (text == "none")
    return auth_mode::none;
  if (text == "token")
    return auth_mode::token;
  if (text == "proxy")
    return auth_mode::proxy;
  return config_error(key, "expected none, token or proxy, got '" + text + "'");
}

caf::error apply_auth(auth_settings& a, const YAML::Node& n) {
  if (n.IsNull())
    return {};
  if (!n.IsMap())
    return config_error("auth",
                        "expected a mapping (mode, audiences, "
                        "cacheSeconds, failureCacheSeconds, proxy)");
  for (const auto& kv : n) {
    auto key = "auth." + kv.first.as<std::string>();
    const auto& v = kv.second;
    if (key == "auth.mode") {
      auto x = parse_auth_mode(key, v.IsScalar() ? v.Scalar() : std::string{});
      if (!x)
        return x.error();
      a.mode = *x;
    } else if (key == "auth.audiences") {
      auto x = string_list(key, v, "audiences");
      if (!x)
        return x.error();
      a.audiences = std::move(*x);
    } else if (key == "auth.cacheSeconds"
               || key == "auth.failureCacheSeconds") {
      auto x = int_value(key, v, 1, 3600);
      if (!x)
        return x.error();
      (key == "auth.cacheSeconds" ? a.cache_seconds : a.failure_cache_seconds)
        = static_cast<uint32_t>(*x);
    } else if (key == "auth.proxy") {
      if (auto err = apply_proxy(a.proxy, v))
        return err;
    } else {
      return config_error(key, "unknown key");
    }
  }
  return {};
}

caf::error check_auth(const settings& s) {
  if (s.auth.mode != auth_mode::proxy)
    return {};
  // A proxy is believed only for its client certificate, which only a TLS
  // listener can ask for.
  if (!s.tls.enabled())
    return config_error("tls.certFile",
                        "needed with auth.mode proxy: the front proxy's "
                        "client certificate is checked over HTTPS");
  if (s.auth.proxy.client_ca_file.empty())
    return config_error("auth.proxy.clientCAFile",
                        "needed with auth.mode proxy: the CA that signs "
                        "the front proxy's client certificate");
  return {};
}

} // namespace kws::config::detail
