// Where the client connects and how it authenticates: kubeconfig files
// (with client-go's merge rules) and the in-cluster service account.
#pragma once

#include "util/errors.hpp"

#include <caf/expected.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kws::kube {

/// An exec credential plugin (`users[].user.exec`).
struct exec_config {
  /// "client.authentication.k8s.io/v1" or ".../v1beta1".
  std::string api_version;
  /// The command; a relative path with a '/' is already resolved against
  /// the directory of its kubeconfig file.
  std::string command;
  std::vector<std::string> args;
  /// Extra environment variables for the plugin.
  std::vector<std::pair<std::string, std::string>> env;
  /// "Never", "IfAvailable" or "Always". We never have a terminal, so only
  /// "Always" is refused when the plugin runs.
  std::string interactive_mode;
  /// Pass the cluster in `KUBERNETES_EXEC_INFO` (`spec.cluster`).
  bool provide_cluster_info = false;
};

/// Everything the client needs to reach one apiserver.
struct cluster_config {
  /// "https://host:port".
  std::string server;
  /// PEM of the CA bundle; empty means the system roots.
  std::string ca_pem;
  /// PEM of the client certificate (chain) and key; empty for none.
  std::string client_cert_pem;
  std::string client_key_pem;
  /// A static bearer token ("" for none). Wins over `token_file` for
  /// requests, as in client-go.
  std::string token;
  /// A token file re-read every minute and after a 401 ("" for none).
  std::string token_file;
  /// An exec credential plugin, used when there is no static token.
  std::optional<exec_config> exec;
  /// Name for SNI and certificate verification instead of the host of
  /// `server` ("" = the host).
  std::string tls_server_name;
  /// Skip verification of the server certificate (testing only).
  bool insecure_skip_tls_verify = false;
  /// Default namespace of the context (or the service account's).
  std::string namespace_;
  /// Where this came from, for error messages, e.g.
  /// "kubeconfig /home/a/.kube/config, context prod".
  std::string source;
  /// Certificate-authority file name, for error messages ("" if inline).
  std::string ca_file;
  /// Proxy URL from the kubeconfig; not supported, kept to report it.
  std::string proxy_url;
};

/// Loads a kubeconfig. `explicit_path` names one file (no merging);
/// otherwise `$KUBECONFIG` (':'-separated, merged with client-go's rules:
/// first file to set a value or map key wins, missing files ignored) or
/// `~/.kube/config`. `context` "" uses `current-context`. Errors name the
/// file and the key.
caf::expected<cluster_config> load_kubeconfig(const std::string& explicit_path,
                                              const std::string& context = "");

/// Parses kubeconfig documents that are already in memory, merged in the
/// given order. Each entry is (file name for messages and relative paths,
/// YAML text). Used by `load_kubeconfig` and by tests.
caf::expected<cluster_config> load_kubeconfig_documents(
  const std::vector<std::pair<std::string, std::string>>& files,
  const std::string& context = "");

/// The default service-account directory of a pod.
inline constexpr const char* default_service_account_dir
  = "/var/run/secrets/kubernetes.io/serviceaccount";

/// In-cluster configuration from `KUBERNETES_SERVICE_HOST`/`_PORT` and the
/// service-account directory (`token`, `ca.crt`, `namespace`). The token is
/// a token file, re-read every minute and after a 401.
caf::expected<cluster_config> load_in_cluster(const std::string& sa_dir
                                              = default_service_account_dir);

/// Picks the configuration like a Kubernetes tool does: the explicit
/// kubeconfig path, else `$KUBECONFIG`, else in-cluster when
/// `KUBERNETES_SERVICE_HOST` is set (token directory `$KWS_SERVICE_ACCOUNT_DIR`
/// or the default), else `~/.kube/config`.
caf::expected<cluster_config> load_default(const std::string& kubeconfig_path);

/// Reads a whole file; errors name the file and `what` it is for.
caf::expected<std::string> read_file(const std::string& path,
                                     const std::string& what);

/// Decodes standard base64 (whitespace ignored).
caf::expected<std::string> base64_decode(std::string_view x);

} // namespace kws::kube
