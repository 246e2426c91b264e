// Access to the local control plane started by tests/cluster/up, for e2e
// tests: its state file, kubectl, and the server binary as a child process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace kws::test {

/// What tests/cluster/up wrote into state.json.
struct cluster_state {
  std::string api_url;
  std::string ca_file;
  std::string kubeconfig;
  std::string kubectl;
  std::string audit_log;
  std::string sa_token_dir;
  std::string reader_kubeconfig;
};

/// Reads $KWS_CLUSTER_STATE; fails the test (never skips) when it is missing.
cluster_state load_cluster_state();

/// Runs kubectl with `args` (a shell-quoted string) and optional stdin;
/// returns its exit code and fills `out` with stdout and stderr.
int kubectl(const cluster_state& c, const std::string& args,
            std::string* out = nullptr, const std::string& stdin_text = {});

/// A free TCP port on 127.0.0.1.
uint16_t free_port();

/// Polls `pred` every 100 ms until it holds or `limit` passes.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds limit);

/// The k8s-watch-server binary ($KWS_SERVER_BINARY) as a child process.
class server_process {
public:
  /// Starts the binary with `env` added to the environment; its output goes
  /// to `log_path`.
  server_process(std::map<std::string, std::string> env, std::string log_path);
  ~server_process();

  /// Sends SIGTERM and waits up to `limit`; returns the exit code, or -1 when
  /// it did not exit in time (then it is killed).
  int terminate(std::chrono::milliseconds limit);

  /// Kills with SIGKILL and reaps.
  void kill();

  bool running() const { return pid_ > 0; }

  pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
};

} // namespace kws::test
