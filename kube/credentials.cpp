#include "kube/credentials.hpp"

#include "util/json_fields.hpp"
#include "util/time_format.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <system_error>

extern char** environ;

namespace kws::kube {

namespace {

using json::string_member;

caf::error exec_error(const exec_config& exec, const std::string& what) {
  return caf::make_error(ec::unauthorized,
                         fmt::format("exec plugin {}: {}", exec.command, what));
}

} // namespace

caf::expected<std::chrono::system_clock::time_point>
parse_rfc3339(std::string_view x) {
  auto ns = kws::parse_rfc3339(x);
  if (!ns)
    return ns.error();
  return std::chrono::system_clock::time_point{
    std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::nanoseconds{*ns})};
}

caf::expected<exec_credential>
parse_exec_credential(std::string_view text, std::string_view api_version) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject())
    return caf::make_error(ec::parse_error,
                           "exec plugin output is not a JSON object");
  if (string_member(doc, "kind") != "ExecCredential")
    return caf::make_error(ec::parse_error,
                           "exec plugin output is not an ExecCredential");
  if (string_member(doc, "apiVersion") != api_version)
    return caf::make_error(
      ec::parse_error,
      fmt::format("exec plugin returned apiVersion '{}', configured '{}'",
                  string_member(doc, "apiVersion"), api_version));
  auto status = doc.FindMember("status");
  if (status == doc.MemberEnd() || !status->value.IsObject())
    return caf::make_error(ec::parse_error,
                           "exec plugin output has no 'status'");
  exec_credential result;
  result.token = string_member(status->value, "token");
  result.client_cert_pem
    = string_member(status->value, "clientCertificateData");
  result.client_key_pem = string_member(status->value, "clientKeyData");
  if (result.client_cert_pem.empty() != result.client_key_pem.empty())
    return caf::make_error(ec::parse_error,
                           "exec plugin output needs both "
                           "clientCertificateData and clientKeyData");
  if (result.token.empty() && result.client_cert_pem.empty())
    return caf::make_error(ec::parse_error,
                           "exec plugin output has neither a token nor a "
                           "client certificate");
  if (auto ts = string_member(status->value, "expirationTimestamp");
      !ts.empty()) {
    auto expiry = parse_rfc3339(ts);
    if (!expiry)
      return expiry.error();
    result.expiry = *expiry;
  }
  return result;
}

std::string exec_info_json(const exec_config& exec, const cluster_config& cfg) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  w.Key("kind");
  w.String("ExecCredential");
  w.Key("apiVersion");
  w.String(exec.api_version);
  w.Key("spec");
  w.StartObject();
  w.Key("interactive");
  w.Bool(false);
  if (exec.provide_cluster_info) {
    w.Key("cluster");
    w.StartObject();
    w.Key("server");
    w.String(cfg.server);
    if (!cfg.ca_pem.empty()) {
      // Go's []byte → base64 in JSON.
      static constexpr char table[]
        = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      std::string b64;
      const auto& in = cfg.ca_pem;
      for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t n = static_cast<uint8_t>(in[i]) << 16;
        if (i + 1 < in.size())
          n |= static_cast<uint8_t>(in[i + 1]) << 8;
        if (i + 2 < in.size())
          n |= static_cast<uint8_t>(in[i + 2]);
        b64 += table[(n >> 18) & 63];
        b64 += table[(n >> 12) & 63];
        b64 += i + 1 < in.size() ? table[(n >> 6) & 63] : '=';
        b64 += i + 2 < in.size() ? table[n & 63] : '=';
      }
      w.Key("certificate-authority-data");
      w.String(b64);
    }
    w.Key("tls-server-name");
    w.String(cfg.tls_server_name);
    w.Key("insecure-skip-tls-verify");
    w.Bool(cfg.insecure_skip_tls_verify);
    w.Key("proxy-url");
    w.String(cfg.proxy_url);
    w.Key("config");
    w.Null();
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

caf::expected<exec_credential> run_exec_plugin(const exec_config& exec,
                                               const cluster_config& cfg,
                                               std::chrono::seconds timeout) {
  if (exec.interactive_mode == "Always")
    return exec_error(exec,
                      "interactiveMode Always needs a terminal, which "
                      "this service does not have");
  // Environment: ours, then the configured variables (overriding), then
  // KUBERNETES_EXEC_INFO.
  std::vector<std::string> env_strings;
  auto overridden = [&](std::string_view entry) {
    auto name = entry.substr(0, entry.find('='));
    if (name == "KUBERNETES_EXEC_INFO")
      return true;
    for (const auto& [key, value] : exec.env)
      if (key == name)
        return true;
    return false;
  };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    if (!overridden(*e))
      env_strings.emplace_back(*e);
  for (const auto& [key, value] : exec.env)
    env_strings.push_back(fmt::format("{}={}", key, value));
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + exec_info_json(exec, cfg));
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& x : env_strings)
    envp.push_back(x.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{exec.command};
  argv_strings.insert(argv_strings.end(), exec.args.begin(), exec.args.end());
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (auto& x : argv_strings)
    argv.push_back(x.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe(out) != 0)
    return exec_error(
      exec, fmt::format("pipe: {}", std::system_category().message(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, out[1]);
  // Its own process group, so a timeout kills the plugin's children too.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  auto rc = posix_spawnp(&pid, exec.command.c_str(), &actions, &attr,
                         argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return exec_error(
      exec,
      fmt::format("cannot start: {}", std::system_category().message(rc)));
  }
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{out[0], POLLIN, 0};
    auto n = poll(&pfd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      timed_out = n == 0;
      break;
    }
    char buf[4096];
    auto got = read(out[0], buf, sizeof(buf));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    output.append(buf, static_cast<size_t>(got));
  }
  close(out[0]);
  if (timed_out)
    kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return exec_error(exec,
                      fmt::format("no answer within {}s", timeout.count()));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return exec_error(
      exec,
      WIFEXITED(status)
        ? fmt::format("exited with code {}", WEXITSTATUS(status))
        : fmt::format("killed by signal {}", WTERMSIG(status)));
  auto result = parse_exec_credential(output, exec.api_version);
  if (!result)
    return exec_error(exec, render(result.error()));
  return result;
}

caf::expected<std::string> read_token_file(const std::string& path) {
  auto text = read_file(path, "token");
  if (!text)
    return text.error();
  auto& x = *text;
  auto first = x.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return caf::make_error(ec::unauthorized,
                           fmt::format("token file {} is empty", path));
  auto last = x.find_last_not_of(" \t\r\n");
  return x.substr(first, last - first + 1);
}

} // namespace kws::kube
