// Access to the local control plane started by tests/cluster/up, for e2e
// tests: its state file, kubectl, and the server binary as a child process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kws::test {

/// What tests/cluster/up wrote into state.json.
struct cluster_state {
  /// The state directory (KWS_CLUSTER_DIR of that cluster).
  std::string dir;
  std::string api_url;
  std::string etcd_url;
  std::string ca_file;
  std::string kubeconfig;
  std::string kubectl;
  std::string audit_log;
  std::string sa_token_dir;
  std::string reader_kubeconfig;
};

/// Reads $KWS_CLUSTER_STATE; fails the test (never skips) when it is missing.
cluster_state load_cluster_state();

/// Reads the state.json at `path`; fails the test when it is unusable.
cluster_state load_cluster_state(const std::string& path);

/// The repository's tests/cluster directory (up, down, churn, ...).
std::string cluster_scripts_dir();

/// A control plane of a test's own, with knobs the shared one lacks
/// (tests/cluster/README.md): started by tests/cluster/up in `dir`, stopped
/// by tests/cluster/down when the object goes away, also after a failure.
class private_cluster {
public:
  /// Starts the cluster; `knobs` are KWS_* variables for `up`. Fails the test
  /// (check `ok()`) when it does not come up; its log is `dir`/up.log.
  private_cluster(std::string dir, std::map<std::string, std::string> knobs);
  ~private_cluster();

  private_cluster(const private_cluster&) = delete;
  private_cluster& operator=(const private_cluster&) = delete;

  bool ok() const { return ok_; }

  const cluster_state& state() const { return state_; }

  /// Runs a script of tests/cluster (e.g. "restart-apiserver --down 2s")
  /// against this cluster; returns its exit code, output in `out`.
  int run_script(const std::string& command, std::string* out = nullptr) const;

  /// Stops the cluster now; returns the exit code of `down`.
  int down();

private:
  std::string dir_;
  cluster_state state_;
  bool ok_ = false;
  bool up_ = false;
};

/// Runs kubectl with `args` (a shell-quoted string) and optional stdin;
/// returns its exit code and fills `out` with stdout and stderr.
int kubectl(const cluster_state& c, const std::string& args,
            std::string* out = nullptr, const std::string& stdin_text = {});

/// A free TCP port on 127.0.0.1.
uint16_t free_port();

/// Whether `port` on 127.0.0.1 can be bound right now.
bool port_is_free(uint16_t port);

/// Polls `pred` every 100 ms until it holds or `limit` passes.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds limit);

/// Runs `command` with /bin/sh -c and `env` added to the environment; returns
/// its exit code and fills `out` with its stdout and stderr.
int run_command(const std::string& command,
                const std::map<std::string, std::string>& env = {},
                std::string* out = nullptr);

/// A command (/bin/sh -c) running in the background, output to a log file.
class background_command {
public:
  background_command(const std::string& command,
                     std::map<std::string, std::string> env,
                     std::string log_path);
  ~background_command();

  background_command(const background_command&) = delete;
  background_command& operator=(const background_command&) = delete;

  /// Waits up to `limit`; returns the exit code, or -1 when it did not exit
  /// in time (then it is killed).
  int wait(std::chrono::milliseconds limit);

  /// Whether it has exited (reaps it then).
  bool exited();

private:
  pid_t pid_ = -1;
  int status_ = -1;
};

/// The k8s-watch-server binary ($KWS_SERVER_BINARY) as a child process.
class server_process {
public:
  /// Starts the binary with `args` and with `env` added to the
  /// environment; its output goes to `log_path`.
  server_process(std::map<std::string, std::string> env, std::string log_path,
                 std::vector<std::string> args = {});
  ~server_process();

  /// Sends SIGTERM and waits up to `limit`; returns the exit code, or -1 when
  /// it did not exit in time (then it is killed). Anything but 0 prints the
  /// log's last lines: a fixture may remove the log right after.
  int terminate(std::chrono::milliseconds limit);

  /// Kills with SIGKILL and reaps.
  void kill();

  bool running() const { return pid_ > 0; }

  pid_t pid() const { return pid_; }

private:
  int report(int code) const;

  pid_t pid_ = -1;
  std::string log_path_;
};

/// Starts the server against `cluster` on `port` with its store in
/// `dir`/store, its log in `dir`/server.log, the configuration file
/// `config_path` (none when empty) and `extra_env`, and waits up to 120 s
/// for /readyz to answer 200. Fails the test (naming the log) otherwise.
std::unique_ptr<server_process>
start_ready_server(const cluster_state& cluster, const std::string& dir,
                   uint16_t port, const std::string& config_path,
                   const std::map<std::string, std::string>& extra_env = {});

} // namespace kws::test
