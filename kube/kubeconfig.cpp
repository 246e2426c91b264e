#include "kube/kubeconfig.hpp"

#include "util/file_text.hpp"
#include "util/logging.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <system_error>

namespace kws::kube {

namespace {

namespace fs = std::filesystem;

/// A named entry (cluster, user or context) and the file that defined it.
struct entry {
  std::string file;
  YAML::Node node;
};

/// The merged view of several kubeconfig files.
struct merged_config {
  std::map<std::string, entry> clusters;
  std::map<std::string, entry> users;
  std::map<std::string, entry> contexts;
  std::string current_context;
  std::vector<std::string> files;
};

caf::error config_error(const std::string& file, const std::string& what) {
  return caf::make_error(ec::config_error,
                         fmt::format("kubeconfig {}: {}", file, what));
}

std::string dir_of(const std::string& file) {
  auto parent = fs::path{file}.parent_path();
  return parent.empty() ? std::string{"."} : parent.string();
}

std::string resolve_path(const std::string& file, const std::string& path) {
  if (path.empty() || fs::path{path}.is_absolute())
    return path;
  return (fs::path{dir_of(file)} / path).lexically_normal().string();
}

/// Reads the optional scalar `key` of `node`; `where` names it in errors.
caf::expected<std::string> get_string(const YAML::Node& node,
                                      const std::string& key,
                                      const std::string& file,
                                      const std::string& where) {
  auto child = node[key];
  if (!child || child.IsNull())
    return std::string{};
  if (!child.IsScalar())
    return config_error(file,
                        fmt::format("{}.{} must be a string", where, key));
  return child.Scalar();
}

caf::expected<bool> get_bool(const YAML::Node& node, const std::string& key,
                             const std::string& file,
                             const std::string& where) {
  auto str = get_string(node, key, file, where);
  if (!str)
    return str.error();
  if (str->empty() || *str == "false")
    return false;
  if (*str == "true")
    return true;
  return config_error(
    file,
    fmt::format("{}.{} must be true or false, got '{}'", where, key, *str));
}

/// Merges the named list `section` of one file: first definition wins.
caf::error merge_section(const YAML::Node& root, const std::string& section,
                         const std::string& body_key, const std::string& file,
                         std::map<std::string, entry>& out) {
  auto list = root[section];
  if (!list || list.IsNull())
    return {};
  if (!list.IsSequence())
    return config_error(file, fmt::format("'{}' must be a list", section));
  for (size_t i = 0; i < list.size(); ++i) {
    auto item = list[i];
    auto where = fmt::format("{}[{}]", section, i);
    if (!item.IsMap())
      return config_error(file, fmt::format("{} must be a mapping", where));
    auto name = get_string(item, "name", file, where);
    if (!name)
      return name.error();
    if (name->empty())
      return config_error(file, fmt::format("{} has no 'name'", where));
    auto body = item[body_key];
    if (body && !body.IsNull() && !body.IsMap())
      return config_error(
        file, fmt::format("{}.{} must be a mapping", where, body_key));
    // client-go: a later file never changes an entry, not even fields the
    // first entry lacks.
    out.emplace(*name,
                entry{file, body ? body : YAML::Node{YAML::NodeType::Map}});
  }
  return {};
}

caf::error merge_document(const std::string& file, const std::string& text,
                          merged_config& out) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return config_error(file,
                        fmt::format("invalid YAML at line {}, column {}: {}",
                                    e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  out.files.push_back(file);
  if (!root || root.IsNull())
    return {}; // an empty file is an empty config
  if (!root.IsMap())
    return config_error(file, "the document is not a mapping");
  try {
    if (auto err
        = merge_section(root, "clusters", "cluster", file, out.clusters))
      return err;
    if (auto err = merge_section(root, "users", "user", file, out.users))
      return err;
    if (auto err
        = merge_section(root, "contexts", "context", file, out.contexts))
      return err;
    if (out.current_context.empty()) {
      auto cur = get_string(root, "current-context", file, "");
      if (!cur)
        return cur.error();
      out.current_context = *cur;
    }
  } catch (const YAML::Exception& e) {
    return config_error(file, fmt::format("unexpected structure: {}", e.msg));
  }
  return {};
}

/// Reads `<key>-data` (base64) or `<key>` (a file path), data first.
caf::expected<std::string> data_or_file(const entry& e, const std::string& key,
                                        const std::string& where,
                                        std::string* file_out = nullptr) {
  auto data = get_string(e.node, key + "-data", e.file, where);
  if (!data)
    return data.error();
  if (!data->empty()) {
    auto decoded = base64_decode(*data);
    if (!decoded)
      return config_error(
        e.file, fmt::format("{}.{}-data is not valid base64", where, key));
    return decoded;
  }
  auto path = get_string(e.node, key, e.file, where);
  if (!path)
    return path.error();
  if (path->empty())
    return std::string{};
  auto resolved = resolve_path(e.file, *path);
  if (file_out != nullptr)
    *file_out = resolved;
  auto contents = read_file(resolved, fmt::format("{}.{}", where, key));
  if (!contents)
    return config_error(e.file, render(contents.error()));
  return contents;
}

caf::error load_exec(const entry& user, const std::string& where,
                     cluster_config& cfg) {
  auto node = user.node["exec"];
  if (!node || node.IsNull())
    return {};
  auto exec_where = where + ".exec";
  if (!node.IsMap())
    return config_error(user.file, exec_where + " must be a mapping");
  exec_config result;
  auto api_version = get_string(node, "apiVersion", user.file, exec_where);
  if (!api_version)
    return api_version.error();
  if (*api_version != "client.authentication.k8s.io/v1"
      && *api_version != "client.authentication.k8s.io/v1beta1")
    return config_error(user.file,
                        fmt::format("{}.apiVersion '{}' is not supported "
                                    "(client.authentication.k8s.io/v1 or "
                                    "v1beta1)",
                                    exec_where, *api_version));
  result.api_version = *api_version;
  auto command = get_string(node, "command", user.file, exec_where);
  if (!command)
    return command.error();
  if (command->empty())
    return config_error(user.file, exec_where + " has no 'command'");
  // client-go: a command with a path separator is relative to the file.
  result.command = command->find('/') != std::string::npos
    ? resolve_path(user.file, *command)
    : *command;
  if (auto args = node["args"]; args && !args.IsNull()) {
    if (!args.IsSequence())
      return config_error(user.file, exec_where + ".args must be a list");
    for (const auto& arg : args) {
      if (!arg.IsScalar())
        return config_error(user.file, exec_where + ".args must hold strings");
      result.args.push_back(arg.Scalar());
    }
  }
  if (auto env = node["env"]; env && !env.IsNull()) {
    if (!env.IsSequence())
      return config_error(user.file, exec_where + ".env must be a list");
    for (size_t i = 0; i < env.size(); ++i) {
      auto env_where = fmt::format("{}.env[{}]", exec_where, i);
      auto name = get_string(env[i], "name", user.file, env_where);
      if (!name)
        return name.error();
      auto value = get_string(env[i], "value", user.file, env_where);
      if (!value)
        return value.error();
      if (name->empty())
        return config_error(user.file, env_where + " has no 'name'");
      result.env.emplace_back(*name, *value);
    }
  }
  auto mode = get_string(node, "interactiveMode", user.file, exec_where);
  if (!mode)
    return mode.error();
  if (mode->empty() && result.api_version.ends_with("/v1"))
    return config_error(user.file,
                        exec_where
                          + ".interactiveMode is required for "
                            "client.authentication.k8s.io/v1");
  if (!mode->empty() && *mode != "Never" && *mode != "IfAvailable"
      && *mode != "Always")
    return config_error(user.file,
                        fmt::format("{}.interactiveMode '{}' is invalid "
                                    "(Never, IfAvailable or Always)",
                                    exec_where, *mode));
  result.interactive_mode = mode->empty() ? "IfAvailable" : *mode;
  auto provide = get_bool(node, "provideClusterInfo", user.file, exec_where);
  if (!provide)
    return provide.error();
  result.provide_cluster_info = *provide;
  cfg.exec = std::move(result);
  return {};
}

caf::expected<cluster_config> resolve(const merged_config& merged,
                                      const std::string& context_name) {
  auto files = fmt::format("{}", fmt::join(merged.files, ", "));
  auto name = context_name.empty() ? merged.current_context : context_name;
  if (name.empty())
    return caf::make_error(ec::config_error,
                           fmt::format("kubeconfig {}: no context given and "
                                       "no current-context set",
                                       files));
  auto ctx = merged.contexts.find(name);
  if (ctx == merged.contexts.end())
    return caf::make_error(
      ec::config_error,
      fmt::format("kubeconfig {}: context '{}' not found", files, name));
  auto ctx_where = fmt::format("contexts[{}].context", name);
  const auto& ctx_file = ctx->second.file;
  auto cluster_name
    = get_string(ctx->second.node, "cluster", ctx_file, ctx_where);
  if (!cluster_name)
    return cluster_name.error();
  auto user_name = get_string(ctx->second.node, "user", ctx_file, ctx_where);
  if (!user_name)
    return user_name.error();
  auto ns = get_string(ctx->second.node, "namespace", ctx_file, ctx_where);
  if (!ns)
    return ns.error();
  if (cluster_name->empty())
    return config_error(ctx_file, ctx_where + " has no 'cluster'");
  auto cluster = merged.clusters.find(*cluster_name);
  if (cluster == merged.clusters.end())
    return config_error(ctx_file,
                        fmt::format("{}.cluster: cluster '{}' not found in {}",
                                    ctx_where, *cluster_name, files));
  cluster_config cfg;
  cfg.namespace_ = ns->empty() ? "default" : *ns;
  cfg.source = fmt::format("kubeconfig {}, context {}", files, name);
  // Cluster.
  const auto& c = cluster->second;
  auto c_where = fmt::format("clusters[{}].cluster", *cluster_name);
  auto server = get_string(c.node, "server", c.file, c_where);
  if (!server)
    return server.error();
  if (server->empty())
    return config_error(c.file, c_where + " has no 'server'");
  cfg.server = *server;
  auto ca = data_or_file(c, "certificate-authority", c_where, &cfg.ca_file);
  if (!ca)
    return ca.error();
  cfg.ca_pem = std::move(*ca);
  auto insecure = get_bool(c.node, "insecure-skip-tls-verify", c.file, c_where);
  if (!insecure)
    return insecure.error();
  cfg.insecure_skip_tls_verify = *insecure;
  if (cfg.insecure_skip_tls_verify && !cfg.ca_pem.empty())
    return config_error(c.file,
                        c_where
                          + ": insecure-skip-tls-verify and a "
                            "certificate-authority are mutually "
                            "exclusive");
  auto sni = get_string(c.node, "tls-server-name", c.file, c_where);
  if (!sni)
    return sni.error();
  cfg.tls_server_name = *sni;
  auto proxy = get_string(c.node, "proxy-url", c.file, c_where);
  if (!proxy)
    return proxy.error();
  cfg.proxy_url = *proxy;
  // User (optional: a context may authenticate by nothing but TLS).
  if (user_name->empty())
    return cfg;
  auto user = merged.users.find(*user_name);
  if (user == merged.users.end())
    return config_error(ctx_file,
                        fmt::format("{}.user: user '{}' not found in {}",
                                    ctx_where, *user_name, files));
  const auto& u = user->second;
  auto u_where = fmt::format("users[{}].user", *user_name);
  auto cert = data_or_file(u, "client-certificate", u_where);
  if (!cert)
    return cert.error();
  auto key = data_or_file(u, "client-key", u_where);
  if (!key)
    return key.error();
  if (cert->empty() != key->empty())
    return config_error(u.file,
                        u_where
                          + ": client-certificate and client-key must be "
                            "given together");
  cfg.client_cert_pem = std::move(*cert);
  cfg.client_key_pem = std::move(*key);
  auto token = get_string(u.node, "token", u.file, u_where);
  if (!token)
    return token.error();
  cfg.token = *token;
  auto token_file = get_string(u.node, "tokenFile", u.file, u_where);
  if (!token_file)
    return token_file.error();
  cfg.token_file = resolve_path(u.file, *token_file);
  if (cfg.token.empty() && !cfg.token_file.empty()) {
    // Fail early on an unreadable token file, like client-go.
    auto probe = read_file(cfg.token_file, u_where + ".tokenFile");
    if (!probe)
      return config_error(u.file, render(probe.error()));
  }
  auto username = get_string(u.node, "username", u.file, u_where);
  if (!username)
    return username.error();
  if (!username->empty())
    return config_error(u.file,
                        u_where
                          + ": username/password (basic auth) "
                            "is not supported");
  if (auto provider = u.node["auth-provider"]; provider && !provider.IsNull())
    return config_error(u.file,
                        u_where
                          + ": auth-provider is not supported, "
                            "use an exec plugin");
  if (auto err = load_exec(u, u_where, cfg))
    return err;
  return cfg;
}

std::string home_config() {
  const char* home = std::getenv("HOME");
  return fmt::format("{}/.kube/config", home != nullptr ? home : "");
}

std::string getenv_string(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

} // namespace

caf::expected<std::string> read_file(const std::string& path,
                                     const std::string& what) {
  std::string text;
  if (!read_file_text(path, text))
    return caf::make_error(ec::config_error,
                           fmt::format("cannot read {} file {}: {}", what, path,
                                       std::system_category().message(errno)));
  return text;
}

caf::expected<std::string> base64_decode(std::string_view x) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  std::string result;
  result.reserve(x.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (auto c : x) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
      continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    auto v = value(c);
    if (v < 0 || padding > 0)
      return caf::make_error(ec::parse_error, "invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      result += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (padding > 2 || bits >= 6)
    return caf::make_error(ec::parse_error, "invalid base64");
  return result;
}

caf::expected<cluster_config> load_kubeconfig_documents(
  const std::vector<std::pair<std::string, std::string>>& files,
  const std::string& context) {
  merged_config merged;
  for (const auto& [file, text] : files)
    if (auto err = merge_document(file, text, merged))
      return err;
  return resolve(merged, context);
}

caf::expected<cluster_config> load_kubeconfig(const std::string& explicit_path,
                                              const std::string& context) {
  std::vector<std::string> paths;
  if (!explicit_path.empty()) {
    paths.push_back(explicit_path);
  } else if (auto env = getenv_string("KUBECONFIG"); !env.empty()) {
    std::set<std::string> seen;
    std::istringstream in{env};
    std::string path;
    while (std::getline(in, path, ':')) {
      if (path.empty() || !seen.insert(path).second)
        continue;
      std::error_code ec;
      if (!fs::exists(path, ec)) // client-go ignores missing files here
        continue;
      paths.push_back(path);
    }
    if (paths.empty())
      return caf::make_error(ec::config_error,
                             fmt::format("no file named in KUBECONFIG={} "
                                         "exists",
                                         env));
  } else {
    paths.push_back(home_config());
  }
  std::vector<std::pair<std::string, std::string>> docs;
  for (const auto& path : paths) {
    auto text = read_file(path, "kubeconfig");
    if (!text)
      return text.error();
    docs.emplace_back(path, std::move(*text));
  }
  return load_kubeconfig_documents(docs, context);
}

caf::expected<cluster_config> load_in_cluster(const std::string& sa_dir) {
  auto host = getenv_string("KUBERNETES_SERVICE_HOST");
  auto port = getenv_string("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty())
    return caf::make_error(ec::config_error,
                           "not running in a cluster: KUBERNETES_SERVICE_HOST "
                           "and KUBERNETES_SERVICE_PORT must be set");
  cluster_config cfg;
  auto bracketed
    = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  cfg.server = fmt::format("https://{}:{}", bracketed, port);
  cfg.source = fmt::format("in-cluster service account {}", sa_dir);
  cfg.token_file = sa_dir + "/token";
  auto token = read_file(cfg.token_file, "service-account token");
  if (!token)
    return token.error();
  cfg.ca_file = sa_dir + "/ca.crt";
  auto ca = read_file(cfg.ca_file, "service-account CA");
  if (!ca)
    return ca.error();
  cfg.ca_pem = std::move(*ca);
  cfg.namespace_ = getenv_string("POD_NAMESPACE");
  if (cfg.namespace_.empty()) {
    if (auto ns = read_file(sa_dir + "/namespace", "namespace"))
      cfg.namespace_ = *ns;
    while (!cfg.namespace_.empty()
           && std::isspace(static_cast<unsigned char>(cfg.namespace_.back())))
      cfg.namespace_.pop_back();
  }
  if (cfg.namespace_.empty())
    cfg.namespace_ = "default";
  return cfg;
}

caf::expected<cluster_config> load_default(const std::string& kubeconfig_path) {
  if (!kubeconfig_path.empty() || !getenv_string("KUBECONFIG").empty())
    return load_kubeconfig(kubeconfig_path);
  if (!getenv_string("KUBERNETES_SERVICE_HOST").empty()) {
    // The override lets tests and unusual mounts supply the token directory.
    auto dir = getenv_string("KWS_SERVICE_ACCOUNT_DIR");
    return load_in_cluster(dir.empty() ? default_service_account_dir : dir);
  }
  return load_kubeconfig("");
}

} // namespace kws::kube
