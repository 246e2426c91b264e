// Command-line options of k8s-watch-server.
#pragma once

#include "config/load.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <string>

namespace kws::app {

enum class mode { serve, help, version, probe, backup, restore, mcp, hub };

struct options {
  mode command = mode::serve;
  std::string config_path;
  std::string kubeconfig;
  bool verbose = false;
  /// backup: directory to write; restore: directory to create.
  std::string dest;
  /// restore: the backup to copy from.
  std::string from;
  /// backup: the running server's admin port (default $ADMIN_PORT or 8081).
  uint16_t port = 0;
  /// backup: at a hub, the cluster whose store is backed up.
  std::string cluster;
  /// hub: what its flags set over the configuration file.
  config::hub_flags hub;
  /// mcp: the running server's MCP endpoint.
  std::string url = "http://127.0.0.1:8080/mcp";
  /// mcp: a file holding the bearer token for `auth.mode: token`.
  std::string token_file;
  /// mcp: PEM certificates trusted for an https URL (default: the system's).
  std::string ca_file;
};

inline constexpr const char* usage = R"(usage: k8s-watch-server [options]
       k8s-watch-server probe [--kubeconfig PATH] [--context NAME]
                              [--watch RESOURCE] [--seconds N]
       k8s-watch-server backup --dest DIR [--port N] [--cluster NAME]
       k8s-watch-server restore --from DIR --dest DIR
       k8s-watch-server mcp [--url http(s)://HOST:PORT/mcp] [--token-file PATH]
                            [--ca-file PATH]
       k8s-watch-server hub [--config PATH] [--kafka-brokers HOST:PORT,...]
                            [--topic NAME] [--group NAME] [--clusters A,B]

Watches every resource type of a Kubernetes cluster, stores each change for
retentionDays and answers history queries over HTTP.

options:
  --config PATH       configuration file (default: $CONFIG_PATH or
                      /config/resources.yaml; a missing default file means
                      built-in defaults)
  --kubeconfig PATH   kubeconfig to use (default: $KUBECONFIG, then in-cluster
                      configuration, then ~/.kube/config)
  --verbose           debug logging
  --help              this text
  --version           the version

backup asks the server running on 127.0.0.1 (its admin port: --port, else
$ADMIN_PORT, else 8081; the server's adminPort) for a consistent online backup
of its store into DIR, a new directory inside the server's backupRoot
(default /data/backups; a relative DIR goes under it; on the store's file
system it is cheapest). At a hub, --cluster names the cluster whose store
is backed up.
restore copies a backup into a new, empty store directory for a server that
is not running; point STORAGE_PATH at it (at a hub: STORAGE_PATH/<cluster>).
mcp is the stdio transport of the MCP endpoint for desktop assistants: one
JSON-RPC message a line on stdin, relayed to a running server (default
http://127.0.0.1:8080/mcp, e.g. through kubectl port-forward), its answers
on stdout; it exits when stdin closes. A server with auth.mode token gets
the bearer token from --token-file, else $KWS_TOKEN, else (for a loopback
URL only) the current kubeconfig context's token or exec plugin. An https
URL is checked against --ca-file, else the system's trusted certificates.
hub answers for many clusters: it consumes the records their servers export
to Kafka (export.kafka) into one store per cluster named in hub.clusters
(each under STORAGE_PATH) and serves the same API, each query naming its
cluster=; hub.kafka names the brokers, topic and consumer group.
--kafka-brokers, --topic, --group and --clusters replace hub.kafka.brokers,
hub.kafka.topic, hub.kafka.group and hub.clusters of the file.

environment: CONFIG_PATH, STORAGE_PATH (alias BADGER_PATH), SERVER_PORT,
BACKUP_ROOT, AUTH_MODE, KUBECONFIG, KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT,
KWS_TOKEN (mcp)
)";

/// Parses argv; unknown flags and missing values are errors naming them.
caf::expected<options> parse_options(int argc, char** argv);

/// `k8s-watch-server probe ...`: prints discovery and streams one watch.
int run_probe(int argc, char** argv);

/// `k8s-watch-server backup`: asks the running server for a backup.
int run_backup(const options& opts);

/// `k8s-watch-server restore`: copies a backup into a new store directory.
int run_restore(const options& opts);

/// `k8s-watch-server mcp`: relays stdio MCP to a running server's /mcp.
int run_mcp_stdio(const options& opts);

/// `k8s-watch-server hub`: consumes exported records and answers for their
/// clusters.
int run_hub(const options& opts);

} // namespace kws::app
