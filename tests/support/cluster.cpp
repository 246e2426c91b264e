#include "tests/support/cluster.hpp"

#include "tests/support/http_client.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace kws::test {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString())
    return {};
  return v[key].GetString();
}

} // namespace

cluster_state load_cluster_state() {
  const char* path = std::getenv("KWS_CLUSTER_STATE");
  if (!path || !*path) {
    ADD_FAILURE() << "KWS_CLUSTER_STATE is not set: run tests/cluster/up "
                     "first (tests/run does)";
    return {};
  }
  return load_cluster_state(std::string{path});
}

cluster_state load_cluster_state(const std::string& path) {
  cluster_state result;
  rapidjson::Document doc;
  auto text = read_file(path);
  doc.Parse(text.c_str());
  if (doc.HasParseError() || !doc.IsObject()) {
    ADD_FAILURE() << "cannot parse " << path;
    return result;
  }
  result.dir = str(doc, "dir");
  result.api_url = str(doc, "api_url");
  result.etcd_url = str(doc, "etcd_url");
  result.ca_file = str(doc, "ca_file");
  result.kubeconfig = str(doc, "kubeconfig");
  result.kubectl = str(doc, "bin_dir") + "/kubectl";
  result.audit_log = str(doc, "audit_log");
  if (doc.HasMember("service_account")) {
    result.sa_token_dir = str(doc["service_account"], "token_dir");
    result.reader_kubeconfig = str(doc["service_account"], "kubeconfig");
  }
  EXPECT_FALSE(result.api_url.empty()) << "no api_url in " << path;
  return result;
}

int kubectl(const cluster_state& c, const std::string& args, std::string* out,
            const std::string& stdin_text) {
  char tmpl[] = "/tmp/kws-kubectl-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0)
    return -1;
  ::write(fd, stdin_text.data(), stdin_text.size());
  ::close(fd);
  auto cmd = c.kubectl + " --kubeconfig " + c.kubeconfig + " " + args + " <"
    + tmpl + " 2>&1";
  std::string output;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    ::unlink(tmpl);
    return -1;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    output.append(buf.data(), n);
  int status = ::pclose(p);
  ::unlink(tmpl);
  if (out)
    *out = output;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string cluster_scripts_dir() {
  return KWS_SOURCE_DIR "/tests/cluster";
}

int run_command(const std::string& command,
                const std::map<std::string, std::string>& env,
                std::string* out) {
  int fds[2];
  if (::pipe(fds) != 0)
    return -1;
  pid_t pid = ::fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    for (auto& [k, v] : env)
      ::setenv(k.c_str(), v.c_str(), 1);
    ::close(fds[0]);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    // Background children (the cluster harness) must not keep the pipe open.
    ::close(fds[1]);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::execl("/bin/sh", "sh", "-c", command.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string output;
  std::array<char, 4096> buf;
  ssize_t n;
  while ((n = ::read(fds[0], buf.data(), buf.size())) > 0)
    output.append(buf.data(), static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (out)
    *out = std::move(output);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

private_cluster::private_cluster(std::string dir,
                                 std::map<std::string, std::string> knobs)
    : dir_{std::move(dir)} {
  std::filesystem::create_directories(dir_);
  knobs["KWS_CLUSTER_DIR"] = dir_ + "/cluster";
  std::string out;
  up_ = true;
  int rc = run_command(cluster_scripts_dir() + "/up", knobs, &out);
  std::ofstream{dir_ + "/up.log"} << out;
  if (rc != 0) {
    ADD_FAILURE() << "tests/cluster/up failed (" << rc << "):\n" << out;
    return;
  }
  state_ = load_cluster_state(dir_ + "/cluster/state.json");
  ok_ = !state_.api_url.empty();
}

private_cluster::~private_cluster() {
  down();
}

int private_cluster::run_script(const std::string& command,
                                std::string* out) const {
  return run_command(cluster_scripts_dir() + "/" + command,
                     {{"KWS_CLUSTER_DIR", dir_ + "/cluster"}}, out);
}

int private_cluster::down() {
  if (!up_)
    return 0;
  up_ = false;
  ok_ = false;
  std::string out;
  int rc = run_command(cluster_scripts_dir() + "/down",
                       {{"KWS_CLUSTER_DIR", dir_ + "/cluster"}}, &out);
  if (rc != 0)
    ADD_FAILURE() << "tests/cluster/down failed (" << rc << "):\n" << out;
  return rc;
}

background_command::background_command(const std::string& command,
                                       std::map<std::string, std::string> env,
                                       std::string log_path) {
  pid_ = ::fork();
  if (pid_ == 0) {
    // Dies with the test process, also when that one crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (auto& [k, v] : env)
      ::setenv(k.c_str(), v.c_str(), 1);
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::execl("/bin/sh", "sh", "-c", command.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

background_command::~background_command() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool background_command::exited() {
  if (pid_ <= 0)
    return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_)
    return false;
  pid_ = -1;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

int background_command::wait(std::chrono::milliseconds limit) {
  if (!eventually([this] { return exited(); }, limit)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
  }
  return status_;
}

namespace {

/// Binds a TCP socket to 127.0.0.1:`port` (0: any) and returns the port it
/// got, or 0 when the bind fails; the socket is closed again.
uint16_t bind_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    addr.sin_port = 0; // no port reserved: the caller cannot connect and fails
  if (fd >= 0)
    ::close(fd);
  return ntohs(addr.sin_port);
}

} // namespace

uint16_t free_port() {
  return bind_loopback(0);
}

bool port_is_free(uint16_t port) {
  return port != 0 && bind_loopback(port) == port;
}

bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
}

server_process::server_process(std::map<std::string, std::string> env,
                               std::string log_path,
                               std::vector<std::string> args)
    : log_path_(std::move(log_path)) {
  const char* binary = std::getenv("KWS_SERVER_BINARY");
  if (!binary || !*binary) {
    ADD_FAILURE() << "KWS_SERVER_BINARY is not set";
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    // Dies with the test process, also when that one crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (auto& [k, v] : env)
      ::setenv(k.c_str(), v.c_str(), 1);
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(binary)};
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary, argv.data());
    ::_exit(127);
  }
}

server_process::~server_process() {
  kill();
}

int server_process::terminate(std::chrono::milliseconds limit) {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return report(WIFEXITED(status) ? WEXITSTATUS(status)
                                      : 128 + WTERMSIG(status));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  kill();
  return report(-1);
}

int server_process::report(int code) const {
  if (code == 0)
    return code;
  std::ifstream in{log_path_};
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(std::move(line));
    if (tail.size() > 80)
      tail.pop_front();
  }
  std::cerr << "server stopped with " << code << "; the last lines of "
            << log_path_ << ":\n";
  for (const auto& line : tail)
    std::cerr << "  " << line << '\n';
  return code;
}

void server_process::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::unique_ptr<server_process>
start_ready_server(const cluster_state& cluster, const std::string& dir,
                   uint16_t port, const std::string& config_path,
                   const std::map<std::string, std::string>& extra_env) {
  std::map<std::string, std::string> env{{"KUBECONFIG", cluster.kubeconfig},
                                         {"STORAGE_PATH", dir + "/store"},
                                         {"SERVER_PORT", std::to_string(port)}};
  if (!config_path.empty())
    env["CONFIG_PATH"] = config_path;
  for (const auto& [name, value] : extra_env)
    env[name] = value;
  auto log = dir + "/server.log";
  auto server = std::make_unique<server_process>(std::move(env), log);
  if (!eventually([port] { return http_get(port, "/readyz").status == 200; },
                  std::chrono::seconds{120}))
    ADD_FAILURE() << "the server never became ready; log in " << log;
  return server;
}

} // namespace kws::test
