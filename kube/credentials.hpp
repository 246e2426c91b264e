// Credentials that change at runtime: exec credential plugins
// (client.authentication.k8s.io) and token files.
#pragma once

#include "kube/kubeconfig.hpp"

#include <caf/expected.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kws::kube {

/// What an exec plugin returned (`ExecCredential.status`).
struct exec_credential {
  /// Bearer token; "" when the plugin returned a client certificate.
  std::string token;
  /// PEM client certificate and key (both or neither).
  std::string client_cert_pem;
  std::string client_key_pem;
  /// `expirationTimestamp`; none means "valid until a 401".
  std::optional<std::chrono::system_clock::time_point> expiry;
};

/// Parses the plugin's stdout. The `apiVersion` must equal the configured
/// one; `status` needs a token or both certificate and key.
caf::expected<exec_credential>
parse_exec_credential(std::string_view text, std::string_view api_version);

/// Parses an RFC 3339 timestamp such as "2025-05-01T10:14:00Z" or
/// "2025-05-01T12:14:00.5+02:00".
caf::expected<std::chrono::system_clock::time_point>
parse_rfc3339(std::string_view x);

/// The `KUBERNETES_EXEC_INFO` document for a plugin run.
std::string exec_info_json(const exec_config& exec, const cluster_config& cfg);

/// Runs the plugin and waits for it (blocking; call it off the io thread).
/// The plugin gets our environment plus its `env` and
/// `KUBERNETES_EXEC_INFO`, no stdin, and our stderr. It is killed after
/// `timeout`.
caf::expected<exec_credential>
run_exec_plugin(const exec_config& exec, const cluster_config& cfg,
                std::chrono::seconds timeout = std::chrono::seconds{60});

/// Reads a token file and strips surrounding whitespace.
caf::expected<std::string> read_token_file(const std::string& path);

} // namespace kws::kube
