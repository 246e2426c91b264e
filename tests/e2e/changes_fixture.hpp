// The story the change-intelligence e2e tests share: a Deployment applied,
// scaled and given a new image with kubectl on the real control plane, one
// server recording it, and the JSON helpers the checks use.
#pragma once

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// gtest would print a json as a container of jsons, endlessly.
namespace nlohmann {
// NOLINTNEXTLINE(readability-identifier-naming): the name gtest looks up
inline void PrintTo(const json& j, std::ostream* os) {
  *os << j.dump();
}
} // namespace nlohmann

namespace kws::test::changes_e2e {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto patience = 60s;
constexpr int64_t ns_per_s = 1'000'000'000;

const std::string image_path = "/spec/template/spec/containers/0/image";
const std::string old_image = "nginx:1.25";
const std::string new_image = "nginx:1.26";
/// Where the answers shown in docs/api.md are saved, when set.
inline const char* examples_dir() {
  return std::getenv("KWS_API_EXAMPLES_DIR");
}

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// `ns` as RFC 3339 UTC with nanoseconds (test-side, independent of the
/// server's formatter).
inline std::string rfc3339(int64_t ns) {
  auto secs = static_cast<time_t>(ns / ns_per_s);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 64> buf{};
  auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  std::array<char, 16> frac{};
  std::snprintf(frac.data(), frac.size(), ".%09lld",
                static_cast<long long>(ns % ns_per_s));
  return std::string{buf.data(), n} + frac.data() + "Z";
}

/// Parses "YYYY-MM-DDTHH:MM:SS[.fraction]Z"; -1 when it is not that.
inline int64_t parse_rfc3339(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                  &consumed)
      != 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t frac = 0;
  auto i = static_cast<size_t>(consumed);
  if (i < text.size() && text[i] == '.') {
    int64_t scale = ns_per_s;
    for (++i; i < text.size() && std::isdigit(text[i]) != 0; ++i) {
      scale /= 10;
      frac += (text[i] - '0') * scale;
    }
  }
  if (i + 1 != text.size() || text[i] != 'Z')
    return -1;
  return static_cast<int64_t>(timegm(&tm)) * ns_per_s + frac;
}

inline std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      std::array<char, 4> hex{};
      std::snprintf(hex.data(), hex.size(), "%%%02X", c);
      out += hex.data();
    }
  }
  return out;
}

/// Whether JSON Pointer `path` is `prefix` or below it.
inline bool under(const std::string& path, const std::string& prefix) {
  return path == prefix
    || (path.size() > prefix.size()
        && path.compare(0, prefix.size(), prefix) == 0
        && path[prefix.size()] == '/');
}

inline std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& x : j)
      if (x.is_string())
        out.push_back(x.get<std::string>());
  return out;
}

inline bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

inline std::vector<std::string> changed_paths(const json& rec) {
  return strings_of(rec.value("changedPaths", json::array()));
}

inline bool changed(const json& rec, const std::string& prefix) {
  auto paths = changed_paths(rec);
  return std::any_of(paths.begin(), paths.end(),
                     [&](const auto& p) { return under(p, prefix); });
}

inline std::string str(const json& j, const char* key) {
  if (!j.is_object())
    return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>()
                                          : std::string{};
}

/// The value at `pointer` in `doc`, nullopt when absent.
inline std::optional<json> at_pointer(const json& doc,
                                      const std::string& pointer) {
  json::json_pointer p{pointer};
  if (!doc.contains(p))
    return std::nullopt;
  return doc.at(p);
}

inline bool is_bookkeeping(const std::string& path) {
  return path == "/metadata/resourceVersion" || path == "/metadata/generation"
    || under(path, "/metadata/managedFields")
    || (under(path, "/status")
        && path.substr(path.rfind('/') + 1) == "observedGeneration");
}

/// The Deployment `web`: applied (2 replicas, old image), scaled to 3,
/// given the new image; ConfigMap `late` created last. t0..t3 are quiet
/// moments after each step, at least a second away from any record.
struct deployment_story {
  // json's constructors may throw.
  deployment_story() noexcept(false) = default;

  bool told = false;
  json create;
  json scale;
  json image;
  int64_t t0 = 0;
  int64_t t1 = 0;
  int64_t t2 = 0;
  int64_t t3 = 0;
};

struct changes : ::testing::Test {
  static inline cluster_state cluster;
  static inline std::filesystem::path dir;
  static inline uint16_t port = 0;
  static inline std::unique_ptr<server_process> server;
  static inline std::string ns;

  /// The story, told once by SetUpTestSuite.
  static deployment_story& story() {
    static deployment_story told;
    return told;
  }

  static void start_server() {
    server = start_ready_server(cluster, dir.string(), port,
                                (dir / "resources.yaml").string());
  }

  static void SetUpTestSuite() {
    cluster = load_cluster_state();
    dir = std::filesystem::temp_directory_path()
      / ("kws-e2e-changes-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream{dir / "resources.yaml"} << "discoverCRDs: true\n"
                                             "flushIntervalMs: 50\n";
    port = free_port();
    ns = "chg-" + std::to_string(::getpid());
    ASSERT_EQ(kubectl(cluster, "create namespace " + ns), 0);
    start_server();
    if (server && server->running())
      tell_story();
  }

  static void TearDownTestSuite() {
    if (server && server->running()) {
      EXPECT_EQ(server->terminate(30s), 0)
        << "the server's exit; log in " << (dir / "server.log");
    }
    server.reset();
    kubectl(cluster, "delete namespace " + ns + " --wait=false");
    // Logs and store stay for a failure's diagnosis only.
    if (::testing::UnitTest::GetInstance()->failed_test_count() == 0)
      std::filesystem::remove_all(dir);
  }

  void SetUp() override {
    ASSERT_TRUE(server && server->running()) << "the server is not running";
  }

  static void run_kubectl(const std::string& args,
                          const std::string& stdin_text = {}) {
    std::string out;
    ASSERT_EQ(kubectl(cluster, args, &out, stdin_text), 0)
      << args << ": " << out;
  }

  /// GETs `target` as JSON; fills `raw` when given.
  static json get_json(const std::string& target, int expected_status = 200,
                       http_result* raw = nullptr) {
    auto res = http_get(port, target);
    EXPECT_EQ(res.status, expected_status) << target << ": " << res.body;
    auto doc = json::parse(res.body, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << target << ": " << res.body;
    if (raw != nullptr)
      *raw = std::move(res);
    return doc;
  }

  /// Saves the answer to GET `target`, pretty printed in the server's member
  /// order, as an example for the API documentation.
  static void save_example(const std::string& name, const std::string& target) {
    auto body = nlohmann::ordered_json::parse(http_get(port, target).body,
                                              nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << target;
    const char* dir = examples_dir();
    if (dir == nullptr)
      return;
    std::filesystem::create_directories(dir);
    std::ofstream{std::string{dir} + "/" + name + ".json"} << body.dump(2)
                                                           << "\n";
  }

  /// The records of one object in `ns`, oldest first.
  static std::vector<json> history(const std::string& resource,
                                   const std::string& name) {
    auto res = http_get(port,
                        "/api/v1/events?namespace=" + ns + "&resourceType="
                          + resource + "&resourceName=" + name);
    auto doc = json::parse(res.body, nullptr, false);
    if (res.status != 200 || !doc.is_array())
      return {};
    return doc.get<std::vector<json>>();
  }

  static json record(const std::string& id) {
    return get_json("/api/v1/records/" + id);
  }

  /// The resourceVersion kubectl reads now.
  static std::string live_rv(const std::string& kind, const std::string& name) {
    std::string out;
    if (kubectl(cluster,
                "get " + kind + " " + name + " -n " + ns
                  + " -o jsonpath={.metadata.resourceVersion}",
                &out)
        != 0)
      return {};
    return out;
  }

  /// Waits until the newest record of the object is its live version.
  static void wait_recorded(const std::string& kind, const std::string& name) {
    std::string rv;
    ASSERT_TRUE(eventually(
      [&] {
        rv = live_rv(kind, name);
        auto recs = history(kind, name);
        return !rv.empty() && !recs.empty()
          && str(recs.back(), "resourceVersion") == rv;
      },
      patience))
      << kind << " " << name << " at resourceVersion " << rv
      << " was not recorded";
  }

  static void rollout() {
    run_kubectl("rollout status deployment/web -n " + ns + " --timeout=120s");
  }

  /// Leaves a quiet second before and after a moment it returns.
  static int64_t quiet_moment() {
    std::this_thread::sleep_for(1s);
    auto t = now_ns();
    std::this_thread::sleep_for(1s);
    return t;
  }

  static void tell_story() {
    run_kubectl("apply -n " + ns + " -f -",
                R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: )" + old_image
                  + "\n");
    rollout();
    wait_recorded("deployments", "web");
    story().t0 = quiet_moment();
    run_kubectl("scale deployment web --replicas=3 -n " + ns);
    rollout();
    wait_recorded("deployments", "web");
    story().t1 = quiet_moment();
    run_kubectl("set image deployment/web app=" + new_image + " -n " + ns);
    rollout();
    wait_recorded("deployments", "web");
    story().t2 = quiet_moment();
    run_kubectl("create configmap late --from-literal=a=1 -n " + ns);
    wait_recorded("configmaps", "late");
    story().t3 = quiet_moment();
    for (const auto& rec : history("deployments", "web")) {
      if (str(rec, "verb") == "create" && story().create.is_null())
        story().create = rec;
      if (str(rec, "verb") == "update" && story().scale.is_null()
          && contains(changed_paths(rec), "/spec/replicas"))
        story().scale = rec;
      if (str(rec, "verb") == "update" && story().image.is_null()
          && contains(changed_paths(rec), image_path))
        story().image = rec;
    }
    ASSERT_FALSE(story().create.is_null()) << "no create record of web";
    ASSERT_FALSE(story().scale.is_null()) << "no update of /spec/replicas";
    ASSERT_FALSE(story().image.is_null()) << "no update of " << image_path;
    story().told = true;
  }

  /// The newest record of `recs` not after `t`, or null.
  static json current_at(const std::vector<json>& recs, int64_t t) {
    json out;
    for (const auto& rec : recs)
      if (parse_rfc3339(str(rec, "timestamp")) <= t)
        out = rec;
    return out;
  }

  /// Every item of a paged array answer, following X-Continue.
  static std::vector<json> all_pages(const std::string& target) {
    std::vector<json> out;
    std::string token;
    for (int page = 0; page < 1000; ++page) {
      http_result raw;
      auto url = target;
      if (!token.empty())
        url += "&continue=" + url_encode(token);
      auto doc = get_json(url, 200, &raw);
      EXPECT_TRUE(doc.is_array()) << url << ": " << raw.body;
      if (!doc.is_array())
        return out;
      for (auto& x : doc)
        out.push_back(std::move(x));
      if (raw.headers["X-Has-More"] != "true")
        return out;
      token = raw.headers["X-Continue"];
      EXPECT_FALSE(token.empty()) << url;
      if (token.empty())
        return out;
    }
    ADD_FAILURE() << target << ": more than 1000 pages";
    return out;
  }

  /// The item of `xs` naming resourceType/resourceName, or null.
  static json find_object(const std::vector<json>& xs,
                          const std::string& resource,
                          const std::string& name) {
    for (const auto& x : xs)
      if (str(x, "resourceType") == resource && str(x, "resourceName") == name)
        return x;
    return {};
  }

  /// Checks a diff answer against the records it names: nlohmann's JSON
  /// Patch turns `from`'s object into `to`'s exactly.
  static void expect_diff_applies(json d) {
    ASSERT_TRUE(d.is_object()) << d;
    ASSERT_TRUE(d.contains("patch") && d["patch"].is_array()) << d;
    auto from = record(str(d["from"], "id"));
    auto to = record(str(d["to"], "id"));
    for (const auto& [side, rec] :
         {std::pair<const char*, const json*>{"from", &from},
          std::pair<const char*, const json*>{"to", &to}}) {
      EXPECT_EQ(str(d[side], "resourceVersion"), str(*rec, "resourceVersion"));
      EXPECT_EQ(str(d[side], "timestamp"), str(*rec, "timestamp"));
      EXPECT_EQ(str(d[side], "uid"), str(*rec, "uid"));
    }
    json patched;
    try {
      patched = from["objectChanges"].patch(d["patch"]);
    } catch (const json::exception& e) {
      FAIL() << "the patch does not apply: " << e.what() << "\n"
             << d["patch"].dump();
    }
    EXPECT_EQ(patched, to["objectChanges"])
      << "patch: " << d["patch"].dump()
      << "\ndifference: " << json::diff(patched, to["objectChanges"]).dump();
    EXPECT_TRUE(d.contains("summary") && d["summary"].is_string()) << d;
  }

  /// The op of a patch at `path`, or null.
  static json op_at(const json& patch, const std::string& path) {
    for (const auto& op : patch)
      if (str(op, "path") == path)
        return op;
    return {};
  }
};

} // namespace kws::test::changes_e2e
