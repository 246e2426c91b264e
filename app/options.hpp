// Command-line options of k8s-watch-server.
#pragma once

#include <caf/expected.hpp>

#include <string>

namespace kws::app {

enum class mode { serve, help, version, probe };

struct options {
  mode command = mode::serve;
  std::string config_path;
  std::string kubeconfig;
  bool verbose = false;
};

inline constexpr const char* usage = R"(usage: k8s-watch-server [options]
       k8s-watch-server probe [--kubeconfig PATH] [--context NAME]
                              [--watch RESOURCE] [--seconds N]

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

environment: CONFIG_PATH, STORAGE_PATH (alias BADGER_PATH), SERVER_PORT,
KUBECONFIG, KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT
)";

/// Parses argv; unknown flags and missing values are errors naming them.
caf::expected<options> parse_options(int argc, char** argv);

/// `k8s-watch-server probe ...`: prints discovery and streams one watch.
int run_probe(int argc, char** argv);

} // namespace kws::app
