// The fixture of the service e2e suite: one k8s-watch-server started for
// the whole suite against the real control plane (its test files share it,
// so the class lives in a named namespace), plus its JSON helpers.
#pragma once

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kws::test {

using namespace std::chrono_literals;

inline constexpr auto patience = 60s;

struct service : ::testing::Test {
  static inline cluster_state cluster;
  static inline std::filesystem::path dir;
  static inline uint16_t port = 0;
  /// The loopback admin listener's (`adminPort`).
  static inline uint16_t admin_port = 0;
  static inline std::unique_ptr<server_process> server;
  static inline std::string ns;

  static std::map<std::string, std::string> server_env() {
    return {{"KUBECONFIG", cluster.kubeconfig},
            {"STORAGE_PATH", (dir / "store").string()},
            {"SERVER_PORT", std::to_string(port)},
            {"ADMIN_PORT", std::to_string(admin_port)},
            {"BACKUP_ROOT", (dir / "backups").string()},
            {"CONFIG_PATH", (dir / "resources.yaml").string()}};
  }

  static void start_server() {
    server = std::make_unique<server_process>(server_env(),
                                              (dir / "server.log").string());
    auto ready = eventually(
      [] { return http_get(port, "/readyz").status == 200; }, 120s);
    ASSERT_TRUE(ready) << "server never became ready; log in "
                       << (dir / "server.log");
  }

  static void SetUpTestSuite() {
    cluster = load_cluster_state();
    dir = std::filesystem::temp_directory_path()
      / ("kws-e2e-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream{dir / "resources.yaml"} << "discoverCRDs: true\n"
                                             "flushIntervalMs: 50\n";
    port = free_port();
    do
      admin_port = free_port();
    while (admin_port == port);
    ns = "e2e-" + std::to_string(::getpid());
    ASSERT_EQ(kubectl(cluster, "create namespace " + ns), 0);
    start_server();
  }

  static void TearDownTestSuite() {
    // A clean exit, also under LeakSanitizer (which fails it on a leak).
    if (server && server->running()) {
      EXPECT_EQ(server->terminate(30s), 0)
        << "the server's exit; log in " << (dir / "server.log");
    }
    server.reset();
    kubectl(cluster, "delete namespace " + ns + " --wait=false");
    kubectl(cluster, "delete crd gizmos.e2e.example.com --wait=false");
    // Logs and stores stay for a failure's diagnosis only.
    if (::testing::UnitTest::GetInstance()->failed_test_count() == 0)
      std::filesystem::remove_all(dir);
  }

  void SetUp() override {
    ASSERT_TRUE(server && server->running()) << "the server is not running";
  }

  /// GETs `target` as JSON; `expected_status` 0 accepts any status.
  static rapidjson::Document get_json(const std::string& target,
                                      int expected_status = 200) {
    auto res = http_get(port, target);
    if (expected_status != 0) {
      EXPECT_EQ(res.status, expected_status) << target << ": " << res.body;
    }
    rapidjson::Document doc;
    doc.Parse(res.body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << res.body;
    return doc;
  }

  /// "verb" of every record of one object, by time.
  static std::vector<std::string> verbs_of(const std::string& resource,
                                           const std::string& name,
                                           const std::string& in_ns = ns) {
    auto doc = get_json("/api/v1/events?namespace=" + in_ns + "&resourceType="
                        + resource + "&resourceName=" + name);
    std::vector<std::string> out;
    if (!doc.IsArray())
      return out;
    for (auto& rec : doc.GetArray())
      out.emplace_back(rec["verb"].GetString());
    return out;
  }

  static bool has_verbs(const std::string& resource, const std::string& name,
                        const std::vector<std::string>& expected) {
    return verbs_of(resource, name) == expected;
  }

  static bool log_contains(const std::string& text) {
    std::ifstream in{dir / "server.log"};
    std::string line;
    while (std::getline(in, line))
      if (line.find(text) != std::string::npos)
        return true;
    return false;
  }

  static void apply(const std::string& yaml) {
    std::string out;
    ASSERT_EQ(kubectl(cluster, "apply -n " + ns + " -f -", &out, yaml), 0)
      << out;
  }
};

} // namespace kws::test
