// What an operator of a large cluster controls, against the real control
// plane: excluded namespaces, label selectors, `statusUpdates: drop`, and
// the configuration file reloaded while the server runs (a new resource is
// recorded without a restart, a changed filter relists, an invalid edit is
// rejected and the server keeps going).
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace kws::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto patience = 60s;

struct selective : ::testing::Test {
  static inline cluster_state cluster;
  static inline std::filesystem::path dir;
  static inline uint16_t port = 0;
  static inline std::unique_ptr<server_process> server;
  /// Recorded, and excluded by the configuration.
  static inline std::string inc;
  static inline std::string exc;

  static std::string config_path() { return (dir / "resources.yaml").string(); }

  /// Replaces the configuration file the way a ConfigMap volume does: a new
  /// file renamed over the old one.
  static void write_config(const std::string& text) {
    auto tmp = dir / "resources.yaml.tmp";
    std::ofstream{tmp} << text;
    std::filesystem::rename(tmp, config_path());
  }

  static std::string pods_and_secrets(bool exclude) {
    std::string text = "discoverCRDs: false\n";
    if (exclude)
      text += "excludeNamespaces: [" + exc + "]\n";
    return text + R"(resources:
  - {group: "", version: v1, kind: Pod, plural: pods, namespaced: true,
     statusUpdates: drop}
  - {group: "", version: v1, kind: Secret, plural: secrets, namespaced: true,
     labelSelector: "record=yes"}
)";
  }

  static void SetUpTestSuite() {
    cluster = load_cluster_state();
    dir = std::filesystem::temp_directory_path()
      / ("kws-e2e-selective-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    inc = "sel-in-" + std::to_string(::getpid());
    exc = "sel-out-" + std::to_string(::getpid());
    for (const auto& ns : {inc, exc})
      ASSERT_EQ(kubectl(cluster, "create namespace " + ns), 0);
    write_config(pods_and_secrets(true));
    port = free_port();
    server = start_ready_server(cluster, dir.string(), port, config_path());
  }

  static void TearDownTestSuite() {
    bool stopped = true;
    if (server && server->running()) {
      stopped = server->terminate(30s) == 0;
      EXPECT_TRUE(stopped) << "log in " << (dir / "server.log");
    }
    server.reset();
    for (const auto& ns : {inc, exc})
      kubectl(cluster, "delete namespace " + ns + " --wait=false");
    if (stopped && ::testing::UnitTest::GetInstance()->failed_test_count() == 0)
      std::filesystem::remove_all(dir);
  }

  void SetUp() override {
    ASSERT_TRUE(server && server->running()) << "the server is not running";
  }

  static void run_kubectl(const std::string& args) {
    std::string out;
    ASSERT_EQ(kubectl(cluster, args, &out), 0) << args << ": " << out;
  }

  static void create_pod(const std::string& ns, const std::string& name) {
    run_kubectl("-n " + ns + " run " + name
                + " --image=nginx:1.25 --restart=Never");
  }

  /// The records of one object, oldest first (empty when none).
  static std::vector<json> history(const std::string& ns,
                                   const std::string& type,
                                   const std::string& name) {
    auto res = http_get(port,
                        "/api/v1/events?namespace=" + ns
                          + "&resourceType=" + type + "&resourceName=" + name);
    auto doc = json::parse(res.body, nullptr, false);
    if (res.status != 200 || !doc.is_array())
      return {};
    return doc.get<std::vector<json>>();
  }

  static bool recorded(const std::string& ns, const std::string& type,
                       const std::string& name) {
    return eventually([&] { return !history(ns, type, name).empty(); },
                      patience);
  }

  static std::string server_log() {
    std::ifstream in{dir / "server.log"};
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }

  static std::string metrics() { return http_get(port, "/metrics").body; }

  static json coverage() {
    return json::parse(http_get(port, "/api/v1/coverage").body, nullptr, false);
  }
};

TEST_F(selective, an_excluded_namespace_is_not_recorded_and_coverage_says_so) {
  create_pod(exc, "hidden");
  create_pod(inc, "shown");
  // Created after the hidden one: once it is recorded, so would that be.
  create_pod(inc, "marker-1");
  ASSERT_TRUE(recorded(inc, "pods", "shown"));
  ASSERT_TRUE(recorded(inc, "pods", "marker-1"));
  EXPECT_TRUE(history(exc, "pods", "hidden").empty());
  auto cov = coverage();
  ASSERT_TRUE(cov.contains("filtered")) << cov.dump();
  bool listed = false;
  for (const auto& f : cov["filtered"])
    if (f["resourceType"] == "pods") {
      listed = true;
      EXPECT_EQ(f["excludeNamespaces"], json::array({exc})) << f.dump();
      EXPECT_EQ(f["statusUpdates"], "drop");
    }
  EXPECT_TRUE(listed) << cov.dump();
}

TEST_F(selective, a_label_selector_keeps_only_matching_objects) {
  run_kubectl("-n " + inc + " create secret generic kept --from-literal=a=1");
  run_kubectl("-n " + inc + " label secret kept record=yes");
  run_kubectl("-n " + inc
              + " create secret generic ignored --from-literal=a=1");
  run_kubectl("-n " + inc + " create secret generic marker --from-literal=a=1");
  run_kubectl("-n " + inc + " label secret marker record=yes");
  ASSERT_TRUE(recorded(inc, "secrets", "kept"));
  ASSERT_TRUE(recorded(inc, "secrets", "marker"));
  EXPECT_TRUE(history(inc, "secrets", "ignored").empty());
  // Leaving the selection is not a deletion, though the watch says DELETED.
  run_kubectl("-n " + inc + " label secret kept record=no --overwrite");
  run_kubectl("-n " + inc
              + " create secret generic marker-2 --from-literal=a=1");
  run_kubectl("-n " + inc + " label secret marker-2 record=yes");
  ASSERT_TRUE(recorded(inc, "secrets", "marker-2"));
  for (const auto& rec : history(inc, "secrets", "kept"))
    EXPECT_NE(rec["verb"], "delete") << rec.dump();
  EXPECT_NE(metrics().find("kws_selector_exits_total{resource=\"secrets\"} 1"),
            std::string::npos);
  // A real delete under the selector is one.
  run_kubectl("-n " + inc + " delete secret marker");
  EXPECT_TRUE(eventually(
    [] {
      auto h = history(inc, "secrets", "marker");
      return !h.empty() && h.back()["verb"] == "delete";
    },
    patience));
}

/// The value of one series of `/metrics` (0 when absent).
double metric_value(const std::string& text, const std::string& series) {
  auto at = text.find(series + " ");
  return at == std::string::npos ? 0
                                 : std::stod(text.substr(at + series.size()));
}

TEST_F(selective,
       dropped_status_updates_leave_creates_deletes_and_spec_changes) {
  const std::string dropped
    = "kws_status_updates_dropped_total{resource=\"pods\"}";
  create_pod(inc, "beating");
  ASSERT_TRUE(recorded(inc, "pods", "beating"));
  // Scheduled and started (the fake kubelet's status updates) first, so
  // that nothing but the heartbeats below comes before the label.
  run_kubectl("-n " + inc
              + " wait --for=condition=Ready pod/beating --timeout=60s");
  auto before = metric_value(metrics(), dropped);
  for (int i = 0; i < 3; ++i)
    run_kubectl("-n " + inc + " patch pod beating --subresource=status "
                + "--type=merge -p '{\"status\":{\"message\":\"beat "
                + std::to_string(i) + "\"}}'");
  run_kubectl("-n " + inc + " label pod beating changed=yes");
  auto labelled = [](const json& rec) {
    auto paths = rec.value("changedPaths", json::array());
    return std::find(paths.begin(), paths.end(), "/metadata/labels/changed")
      != paths.end();
  };
  ASSERT_TRUE(eventually(
    [&] {
      auto h = history(inc, "pods", "beating");
      return std::any_of(h.begin(), h.end(), labelled);
    },
    patience));
  EXPECT_GE(metric_value(metrics(), dropped) - before, 3.0);
  run_kubectl("-n " + inc + " delete pod beating --wait=false");
  ASSERT_TRUE(eventually(
    [] {
      auto h = history(inc, "pods", "beating");
      return !h.empty() && h.back()["verb"] == "delete";
    },
    patience));
  auto h = history(inc, "pods", "beating");
  EXPECT_EQ(h.front()["verb"], "create");
  for (const auto& rec : h)
    EXPECT_NE(rec.value("changeClass", ""), "status") << rec.dump();
  auto label = std::find_if(h.begin(), h.end(), labelled);
  ASSERT_NE(label, h.end());
  // Diffed against the last stored version, it shows the heartbeats' change.
  auto paths = (*label)["changedPaths"];
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/status/message"),
            paths.end())
    << label->dump();
  EXPECT_EQ((*label)["objectChanges"]["status"]["message"], "beat 2");
}

TEST_F(selective, a_reloaded_configuration_applies_without_a_restart) {
  auto pid = server->pid();
  // ConfigMaps join; the pods' exclusion goes (a changed filter relists);
  // queryWorkers changes only with a restart.
  write_config(
    pods_and_secrets(false)
    + R"(  - {group: "", version: v1, kind: ConfigMap, plural: configmaps, namespaced: true}
queryWorkers: 3
)");
  ASSERT_TRUE(eventually(
    [] {
      return metrics().find("kws_config_reloads_total{result=\"success\"} 1")
        != std::string::npos;
    },
    patience))
    << server_log();
  run_kubectl("-n " + inc
              + " create configmap after-reload --from-literal=a=1");
  EXPECT_TRUE(recorded(inc, "configmaps", "after-reload")) << server_log();
  // The relist of pods found the pod of the namespace no longer excluded.
  EXPECT_TRUE(recorded(exc, "pods", "hidden")) << server_log();
  auto cov = coverage();
  bool gap = false;
  for (const auto& g : cov["gaps"])
    gap |= g["resourceType"] == "pods" && g["reason"] == "filter changed";
  EXPECT_TRUE(gap) << cov.dump();
  EXPECT_NE(server_log().find("queryWorkers change only after a restart"),
            std::string::npos)
    << server_log();
  EXPECT_EQ(server->pid(), pid);
}

TEST_F(selective, an_invalid_edit_is_rejected_and_the_server_keeps_running) {
  write_config(pods_and_secrets(false) + "retentionDays: 0\n");
  ASSERT_TRUE(eventually(
    [] {
      return metrics().find("kws_config_reloads_total{result=\"failure\"} 1")
        != std::string::npos;
    },
    patience))
    << server_log();
  EXPECT_NE(server_log().find("configuration reload rejected"),
            std::string::npos);
  EXPECT_NE(server_log().find("retentionDays: must be between 1 and 3650"),
            std::string::npos)
    << server_log();
  // The running configuration stays: ConfigMaps are still recorded.
  run_kubectl("-n " + inc
              + " create configmap after-bad-edit --from-literal=a=1");
  EXPECT_TRUE(recorded(inc, "configmaps", "after-bad-edit"));
  EXPECT_EQ(http_get(port, "/readyz").status, 200);
}

} // namespace
} // namespace kws::test
