// k8s-watch-server's change intelligence against the real control plane: a
// Deployment applied, scaled and given a new image with kubectl, rolled out by
// the real kube-controller-manager, must come back with changed paths, change
// classes, field managers and messages per record; diffs and change summaries
// must be patches that nlohmann's independent JSON Patch applies exactly;
// blame, snapshot, the changeClass/path filters, a Pod stuck pulling its image
// and coverage (no gap in a quiet window, "not yet watched" before the first
// list, a "server down" gap after a restart) are checked too. The restart is
// the last case.
//
// One real answer of each endpoint is saved, pretty printed, to
// /tmp/kws-api-examples/<name>.json for the API documentation.
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

namespace kws::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto patience = 60s;
constexpr int64_t ns_per_s = 1'000'000'000;

const std::string image_path = "/spec/template/spec/containers/0/image";
const std::string old_image = "nginx:1.25";
const std::string new_image = "nginx:1.26";
/// Where the answers shown in docs/api.md are saved, when set.
const char* examples_dir() {
  return std::getenv("KWS_API_EXAMPLES_DIR");
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// `ns` as RFC 3339 UTC with nanoseconds (test-side, independent of the
/// server's formatter).
std::string rfc3339(int64_t ns) {
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
int64_t parse_rfc3339(const std::string& text) {
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

std::string url_encode(const std::string& s) {
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
bool under(const std::string& path, const std::string& prefix) {
  return path == prefix
    || (path.size() > prefix.size()
        && path.compare(0, prefix.size(), prefix) == 0
        && path[prefix.size()] == '/');
}

std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& x : j)
      if (x.is_string())
        out.push_back(x.get<std::string>());
  return out;
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

std::vector<std::string> changed_paths(const json& rec) {
  return strings_of(rec.value("changedPaths", json::array()));
}

bool changed(const json& rec, const std::string& prefix) {
  auto paths = changed_paths(rec);
  return std::any_of(paths.begin(), paths.end(),
                     [&](const auto& p) { return under(p, prefix); });
}

std::string str(const json& j, const char* key) {
  if (!j.is_object())
    return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>()
                                          : std::string{};
}

/// The value at `pointer` in `doc`, nullopt when absent.
std::optional<json> at_pointer(const json& doc, const std::string& pointer) {
  json::json_pointer p{pointer};
  if (!doc.contains(p))
    return std::nullopt;
  return doc.at(p);
}

bool is_bookkeeping(const std::string& path) {
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
    server = std::make_unique<server_process>(
      std::map<std::string, std::string>{
        {"KUBECONFIG", cluster.kubeconfig},
        {"STORAGE_PATH", (dir / "store").string()},
        {"SERVER_PORT", std::to_string(port)},
        {"CONFIG_PATH", (dir / "resources.yaml").string()}},
      (dir / "server.log").string());
    ASSERT_TRUE(
      eventually([] { return http_get(port, "/readyz").status == 200; }, 120s))
      << "server never became ready; log in " << (dir / "server.log");
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
      EXPECT_EQ(server->terminate(10s), 0)
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

// Every update record names the leaves it changed, its class, the managers
// whose managedFields entries changed and who owns each changed path; the
// message spells the change out.
TEST_F(changes, update_records_carry_paths_classes_managers_and_messages) {
  ASSERT_TRUE(story().told) << "the Deployment's story was not recorded";
  EXPECT_EQ(str(story().create, "changeClass"), "spec");
  EXPECT_EQ(str(story().create, "user"), "kubectl-client-side-apply");
  EXPECT_EQ(str(story().create, "message"), "Create deployments web");
  EXPECT_FALSE(story().create.contains("changedPaths")
               && !story().create["changedPaths"].is_null())
    << story().create;

  auto& s = story().scale;
  EXPECT_EQ(str(s, "changeClass"), "spec");
  EXPECT_EQ(s["objectChanges"]["spec"]["replicas"], 3);
  EXPECT_FALSE(changed(s, "/status")) << s["changedPaths"];
  EXPECT_EQ(str(s, "message").rfind("Update deployments web: ", 0), 0u)
    << str(s, "message");
  EXPECT_NE(str(s, "message").find("/spec/replicas 2\u21923"),
            std::string::npos)
    << str(s, "message");
  // kubectl scale writes the scale subresource as "kubectl". The applier's
  // managedFields entry changes too, as it loses /spec/replicas, but it
  // owns no changed path, so it is not who made the change.
  EXPECT_EQ(strings_of(s["managers"]), (std::vector<std::string>{"kubectl"}));
  EXPECT_EQ(s["fieldManagers"], (json{{"/spec/replicas", "kubectl"}}));
  save_example("update-record", "/api/v1/records/" + str(s, "id"));

  auto& i = story().image;
  EXPECT_EQ(str(i, "changeClass"), "spec");
  EXPECT_EQ(at_pointer(i["objectChanges"], image_path), json(new_image));
  EXPECT_NE(
    str(i, "message").find(image_path + " " + old_image + "\u2192" + new_image),
    std::string::npos)
    << str(i, "message");
  EXPECT_EQ(strings_of(i["managers"]),
            (std::vector<std::string>{"kubectl-set"}));
  EXPECT_EQ(i["fieldManagers"], (json{{image_path, "kubectl-set"}}));

  auto recs = history("deployments", "web");
  std::set<std::string> managers;
  std::set<std::string> owners;
  size_t status_only = 0;
  json* prev = nullptr;
  for (auto& rec : recs) {
    if (str(rec, "verb") != "update") {
      prev = &rec;
      continue;
    }
    for (const auto& m : strings_of(rec["managers"]))
      managers.insert(m);
    // The managers of a change are the owners of what it changed.
    std::set<std::string> rec_owners;
    for (const auto& [path, m] : rec["fieldManagers"].items())
      rec_owners.insert(m.get<std::string>());
    auto rec_managers = strings_of(rec["managers"]);
    if (!rec_owners.empty()) {
      EXPECT_EQ(
        rec_owners,
        (std::set<std::string>{rec_managers.begin(), rec_managers.end()}))
        << rec["id"];
    }
    owners.insert(rec_owners.begin(), rec_owners.end());
    auto paths = changed_paths(rec);
    if (str(rec, "changeClass") == "status") {
      ++status_only;
      for (const auto& p : paths)
        EXPECT_TRUE(under(p, "/status") || is_bookkeeping(p))
          << p << " in a status-class record " << rec["id"];
      for (const auto& [path, m] : rec["fieldManagers"].items())
        EXPECT_EQ(m, "kube-controller-manager") << path;
    }
    // changedPaths against nlohmann's flattening of both versions: every
    // leaf that differs lies at, under or above a changed path, and every
    // changed path differs.
    if (prev != nullptr && !rec.value("changedPathsTruncated", false)) {
      auto a = (*prev)["objectChanges"].flatten();
      auto b = rec["objectChanges"].flatten();
      std::set<std::string> keys;
      for (const auto& [k, v] : a.items())
        keys.insert(k);
      for (const auto& [k, v] : b.items())
        keys.insert(k);
      for (const auto& k : keys) {
        if (a.value(k, json()) == b.value(k, json())
            && a.contains(k) == b.contains(k))
          continue;
        EXPECT_TRUE(std::any_of(
          paths.begin(), paths.end(),
          [&](const auto& p) { return under(k, p) || under(p, k); }))
          << k << " changed in " << rec["id"] << " but is not in "
          << rec["changedPaths"];
      }
      for (const auto& p : paths)
        EXPECT_NE(at_pointer((*prev)["objectChanges"], p),
                  at_pointer(rec["objectChanges"], p))
          << p << " is listed as changed in " << rec["id"];
    }
    prev = &rec;
  }
  EXPECT_GT(status_only, 0u) << "no status-only update by the controller";
  EXPECT_TRUE(std::includes(managers.begin(), managers.end(), owners.begin(),
                            owners.end()))
    << ::testing::PrintToString(managers);
  EXPECT_EQ(owners,
            (std::set<std::string>{"kube-controller-manager", "kubectl",
                                   "kubectl-set"}));
}

// A diff is a JSON Patch from one version to the other that an independent
// implementation applies exactly; its ops name their managers.
TEST_F(changes, a_diff_between_records_applies_exactly_with_json_patch) {
  ASSERT_TRUE(story().told) << "the Deployment's story was not recorded";
  const auto base = "/api/v1/events/" + ns + "/deployments/web/diff";
  const auto create_id = str(story().create, "id");
  const auto scale_id = str(story().scale, "id");
  const auto image_id = str(story().image, "id");

  auto d = get_json(base + "?from=" + create_id + "&to=" + image_id);
  EXPECT_EQ(str(d["from"], "id"), create_id);
  EXPECT_EQ(str(d["to"], "id"), image_id);
  expect_diff_applies(d);
  auto replicas = op_at(d["patch"], "/spec/replicas");
  EXPECT_EQ(str(replicas, "op"), "replace") << replicas;
  EXPECT_EQ(replicas["value"], 3);
  EXPECT_EQ(str(replicas, "manager"), "kubectl");
  auto image = op_at(d["patch"], image_path);
  EXPECT_EQ(str(image, "op"), "replace") << image;
  EXPECT_EQ(image["value"], new_image);
  EXPECT_EQ(str(image, "manager"), "kubectl-set");
  bool status_ops = false;
  for (const auto& op : d["patch"])
    status_ops = status_ops || under(str(op, "path"), "/status");
  EXPECT_TRUE(status_ops) << "the controller's status is in no op";
  save_example("diff", base + "?from=" + create_id + "&to=" + image_id);

  // The newest two versions by default.
  d = get_json(base);
  expect_diff_applies(d);
  auto recs = history("deployments", "web");
  ASSERT_GE(recs.size(), 2u);
  EXPECT_EQ(str(d["to"], "id"), str(recs.back(), "id"));
  EXPECT_EQ(str(d["from"], "id"), str(recs[recs.size() - 2], "id"));

  // `to` alone: from its predecessor; `from` alone: to its successor.
  size_t image_at = 0;
  size_t scale_at = 0;
  for (size_t k = 0; k < recs.size(); ++k) {
    if (str(recs[k], "id") == image_id)
      image_at = k;
    if (str(recs[k], "id") == scale_id)
      scale_at = k;
  }
  ASSERT_GT(image_at, 0u);
  ASSERT_LT(scale_at + 1, recs.size());
  d = get_json(base + "?to=" + image_id);
  EXPECT_EQ(str(d["from"], "id"), str(recs[image_at - 1], "id"));
  EXPECT_EQ(str(d["to"], "id"), image_id);
  expect_diff_applies(d);
  EXPECT_EQ(str(op_at(d["patch"], image_path), "manager"), "kubectl-set");
  d = get_json(base + "?from=" + scale_id);
  EXPECT_EQ(str(d["from"], "id"), scale_id);
  EXPECT_EQ(str(d["to"], "id"), str(recs[scale_at + 1], "id"));
  expect_diff_applies(d);
  // Backwards works too: the patch undoes the changes.
  d = get_json(base + "?from=" + image_id + "&to=" + create_id);
  expect_diff_applies(d);

  // ignore=status drops every op under /status and nothing else.
  d = get_json(base + "?from=" + create_id + "&to=" + image_id
               + "&ignore=status");
  ASSERT_TRUE(d["patch"].is_array()) << d;
  for (const auto& op : d["patch"])
    EXPECT_FALSE(under(str(op, "path"), "/status")) << op;
  auto from = record(create_id)["objectChanges"];
  auto to = record(image_id)["objectChanges"];
  to["status"] = from["status"];
  EXPECT_EQ(from.patch(d["patch"]), to);

  http_result raw;
  auto err = get_json(base + "?from=xyz", 400, &raw);
  EXPECT_EQ(str(err, "parameter"), "from") << err;
  EXPECT_FALSE(str(err, "error").empty()) << err;
  save_example("error", base + "?from=xyz");
  // The right shape, but no version of this object: also a bad parameter.
  err = get_json(base + "?from=fffffffffffffff0&to=" + image_id, 400);
  EXPECT_EQ(str(err, "parameter"), "from") << err;
  err = get_json(base + "?to=fffffffffffffff0", 400);
  EXPECT_EQ(str(err, "parameter"), "to") << err;
  auto late = history("configmaps", "late");
  ASSERT_FALSE(late.empty());
  err = get_json(base + "?from=" + str(late.front(), "id") + "&to=" + image_id,
                 400);
  EXPECT_EQ(str(err, "parameter"), "from") << err;
  // The oldest version has no predecessor.
  get_json(base + "?to=" + create_id, 404);
  err = get_json(base + "?ignore=status,a~2b", 400);
  EXPECT_EQ(str(err, "parameter"), "ignore") << err;

  // Records by id.
  EXPECT_EQ(record(image_id), story().image);
  err = get_json("/api/v1/records/xyz", 400);
  EXPECT_EQ(str(err, "parameter"), "id") << err;
  get_json("/api/v1/records/fffffffffffffff0", 404);
}

// Blame names, per leaf of the version current at `at`, the record that last
// changed it and the manager that owns it.
TEST_F(changes, blame_names_the_record_and_manager_of_each_field) {
  ASSERT_TRUE(story().told) << "the Deployment's story was not recorded";
  const auto base = "/api/v1/events/" + ns + "/deployments/web/blame";
  auto fields_by_path = [](json b) {
    std::map<std::string, json> out;
    for (const auto& f : b["fields"])
      out[str(f, "path")] = f;
    return out;
  };
  auto recs = history("deployments", "web");
  ASSERT_FALSE(recs.empty());

  auto now = get_json(base);
  EXPECT_EQ(str(now["version"], "id"), str(recs.back(), "id"));
  EXPECT_EQ(str(now["version"], "resourceVersion"),
            str(recs.back(), "resourceVersion"));
  auto f = fields_by_path(now);
  EXPECT_EQ(str(f["/spec/replicas"], "id"), str(story().scale, "id"));
  EXPECT_EQ(str(f["/spec/replicas"], "verb"), "update");
  EXPECT_EQ(str(f["/spec/replicas"], "manager"), "kubectl");
  EXPECT_EQ(str(f[image_path], "id"), str(story().image, "id"));
  EXPECT_EQ(str(f[image_path], "manager"), "kubectl-set");
  EXPECT_EQ(str(f["/status/replicas"], "manager"), "kube-controller-manager");
  EXPECT_EQ(str(f["/metadata/name"], "id"), str(story().create, "id"));
  EXPECT_EQ(str(f["/metadata/name"], "verb"), "create");
  EXPECT_EQ(str(f["/metadata/name"], "manager"), "kubectl-client-side-apply");
  // Exactly the leaves of that version's object, each from a record of it.
  auto flat = record(str(now["version"], "id"))["objectChanges"].flatten();
  std::set<std::string> leaves;
  for (const auto& [k, v] : flat.items())
    leaves.insert(k);
  std::set<std::string> blamed;
  std::set<std::string> ids;
  for (const auto& r : recs)
    ids.insert(str(r, "id"));
  for (const auto& [path, field] : f) {
    blamed.insert(path);
    EXPECT_EQ(ids.count(str(field, "id")), 1u) << field;
    EXPECT_FALSE(str(field, "manager").empty()) << field;
  }
  EXPECT_EQ(blamed, leaves);
  save_example("blame", base + "?at=" + rfc3339(story().t1));

  // Between the scale and the image change.
  auto then = get_json(base + "?at=" + rfc3339(story().t1));
  auto expected = current_at(recs, story().t1);
  EXPECT_EQ(str(then["version"], "id"), str(expected, "id"));
  auto g = fields_by_path(then);
  EXPECT_EQ(str(g["/spec/replicas"], "id"), str(story().scale, "id"));
  EXPECT_EQ(str(g["/spec/replicas"], "manager"), "kubectl");
  EXPECT_EQ(str(g[image_path], "id"), str(story().create, "id"));
  EXPECT_EQ(str(g[image_path], "manager"), "kubectl-client-side-apply");
  EXPECT_NE(str(g[image_path], "id"), str(f[image_path], "id"));
  EXPECT_EQ(str(g["/status/replicas"], "manager"), "kube-controller-manager");

  // Before the Deployment existed.
  get_json(base + "?at="
             + rfc3339(parse_rfc3339(str(story().create, "timestamp"))
                       - 3600 * ns_per_s),
           404);
  auto err = get_json(base + "?at=yesterday", 400);
  EXPECT_EQ(str(err, "parameter"), "at") << err;
}

// A snapshot holds the record current at a moment of every object that
// existed then.
TEST_F(changes, a_snapshot_holds_each_object_as_it_was_at_a_moment) {
  ASSERT_TRUE(story().told) << "the Deployment's story was not recorded";
  const auto base = "/api/v1/snapshot?namespace=" + ns;
  auto recs = history("deployments", "web");

  auto at1 = all_pages(base + "&at=" + rfc3339(story().t1));
  auto web = find_object(at1, "deployments", "web");
  ASSERT_FALSE(web.is_null()) << "web is not in the snapshot at t1";
  EXPECT_EQ(str(web, "id"), str(current_at(recs, story().t1), "id"));
  EXPECT_EQ(web["objectChanges"]["spec"]["replicas"], 3);
  EXPECT_EQ(at_pointer(web["objectChanges"], image_path), json(old_image));
  EXPECT_TRUE(find_object(at1, "configmaps", "late").is_null())
    << "late is in the snapshot before it was created";
  std::set<std::string> seen;
  for (const auto& x : at1) {
    EXPECT_EQ(str(x, "namespace"), ns);
    EXPECT_NE(str(x, "verb"), "delete") << x;
    EXPECT_LE(parse_rfc3339(str(x, "timestamp")), story().t1) << x;
    auto key = str(x, "resourceType") + "/" + str(x, "resourceName");
    EXPECT_TRUE(seen.insert(key).second) << key << " appears twice";
  }

  auto at3 = all_pages(base + "&at=" + rfc3339(story().t3));
  EXPECT_FALSE(find_object(at3, "configmaps", "late").is_null())
    << "late is not in the snapshot after it was created";
  web = find_object(at3, "deployments", "web");
  ASSERT_FALSE(web.is_null());
  EXPECT_EQ(at_pointer(web["objectChanges"], image_path), json(new_image));
  EXPECT_EQ(str(web, "id"), str(current_at(recs, story().t3), "id"));

  // Small pages hold the same objects.
  auto paged = all_pages(base + "&at=" + rfc3339(story().t3) + "&limit=2");
  auto ids = [](const std::vector<json>& xs) {
    std::vector<std::string> out;
    for (const auto& x : xs)
      out.push_back(str(x, "id"));
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids(paged), ids(at3));
  http_result raw;
  auto first
    = get_json(base + "&at=" + rfc3339(story().t3) + "&limit=2", 200, &raw);
  EXPECT_EQ(first.size(), 2u);
  EXPECT_EQ(raw.headers["X-Has-More"], "true");
  EXPECT_FALSE(raw.headers["X-Continue"].empty());

  auto deployments
    = get_json(base + "&resourceType=deployments&at=" + rfc3339(story().t1));
  ASSERT_TRUE(deployments.is_array());
  ASSERT_EQ(deployments.size(), 1u) << deployments;
  EXPECT_EQ(str(deployments[0], "resourceName"), "web");
  save_example("snapshot",
               base + "&resourceType=deployments&at=" + rfc3339(story().t1));

  // Before anything of the namespace existed.
  auto early
    = get_json(base + "&at="
               + rfc3339(parse_rfc3339(str(story().create, "timestamp"))
                         - 3600 * ns_per_s));
  EXPECT_EQ(early, json::array());
}

// The change summary of a window: verbs, classes, changed paths and a net
// patch from the state before the window to the state at its end.
TEST_F(changes,
       a_change_summary_patches_the_state_before_into_the_state_after) {
  ASSERT_TRUE(story().told) << "the Deployment's story was not recorded";
  const auto window
    = "&start=" + rfc3339(story().t0) + "&end=" + rfc3339(story().t2);
  const auto base
    = "/api/v1/changes?namespace=" + ns + "&resourceType=deployments" + window;
  http_result raw;
  auto summary = get_json(base, 200, &raw);
  ASSERT_TRUE(summary.is_array()) << raw.body;
  EXPECT_EQ(raw.headers["X-Coverage-Gaps"], "0");
  auto web
    = find_object(summary.get<std::vector<json>>(), "deployments", "web");
  ASSERT_FALSE(web.is_null()) << summary;
  save_example("changes", base);
  EXPECT_EQ(str(web, "namespace"), ns);
  EXPECT_EQ(str(web, "uid"), str(story().image, "uid"));
  EXPECT_EQ(web["verbs"]["create"], 0);
  EXPECT_GE(web["verbs"]["update"].get<int>(), 2);
  EXPECT_EQ(web["verbs"]["delete"], 0);
  auto classes = strings_of(web["changeClasses"]);
  EXPECT_TRUE(contains(classes, "spec")) << web["changeClasses"];
  auto paths = strings_of(web["changedPaths"]);
  EXPECT_TRUE(contains(paths, "/spec/replicas")) << web["changedPaths"];
  EXPECT_TRUE(contains(paths, image_path)) << web["changedPaths"];

  // The counts are those of the records in the window.
  auto recs = history("deployments", "web");
  int updates = 0;
  std::string first_id;
  std::string last_id;
  for (const auto& rec : recs) {
    auto t = parse_rfc3339(str(rec, "timestamp"));
    if (t < story().t0 || t > story().t2)
      continue;
    if (str(rec, "verb") == "update")
      ++updates;
    if (first_id.empty())
      first_id = str(rec, "id");
    last_id = str(rec, "id");
  }
  EXPECT_EQ(web["verbs"]["update"], updates);
  EXPECT_EQ(str(web, "first"), str(story().scale, "id"));
  EXPECT_EQ(str(web, "first"), first_id);
  EXPECT_EQ(str(web, "last"), last_id);

  // The net patch turns the snapshot at the window's start into the one at
  // its end.
  auto before
    = get_json("/api/v1/snapshot?namespace=" + ns
               + "&resourceType=deployments&at=" + rfc3339(story().t0));
  auto after
    = get_json("/api/v1/snapshot?namespace=" + ns
               + "&resourceType=deployments&at=" + rfc3339(story().t2));
  ASSERT_EQ(before.size(), 1u) << before;
  ASSERT_EQ(after.size(), 1u) << after;
  EXPECT_EQ(str(after[0], "id"), str(web, "last"));
  EXPECT_EQ(before[0]["objectChanges"]["spec"]["replicas"], 2);
  json patched;
  try {
    patched = before[0]["objectChanges"].patch(web["patch"]);
  } catch (const json::exception& e) {
    FAIL() << "the patch does not apply: " << e.what() << "\n" << web["patch"];
  }
  EXPECT_EQ(patched, after[0]["objectChanges"])
    << json::diff(patched, after[0]["objectChanges"]);

  // changeClass keeps objects with a record of that class.
  auto spec = get_json(base + "&changeClass=spec");
  EXPECT_FALSE(
    find_object(spec.get<std::vector<json>>(), "deployments", "web").is_null())
    << spec;
  auto events_only = get_json(base + "&changeClass=event");
  EXPECT_EQ(events_only, json::array());

  // A ConfigMap created in the window: its patch adds the whole object.
  auto created = get_json(
    "/api/v1/changes?namespace=" + ns + "&resourceType=configmaps&start="
    + rfc3339(story().t2) + "&end=" + rfc3339(story().t3));
  auto late
    = find_object(created.get<std::vector<json>>(), "configmaps", "late");
  ASSERT_FALSE(late.is_null()) << created;
  EXPECT_EQ(late["verbs"]["create"], 1);
  auto late_record = record(str(late, "last"));
  EXPECT_EQ(json::object().patch(late["patch"]), late_record["objectChanges"]);

  auto err = get_json(base + "&changeClass=bogus", 400);
  EXPECT_EQ(str(err, "parameter"), "changeClass") << err;
  err = get_json("/api/v1/changes?start=" + rfc3339(story().t2)
                   + "&end=" + rfc3339(story().t0),
                 400);
  EXPECT_EQ(str(err, "parameter"), "start") << err;
}

// GET /api/v1/events filters by change class and changed path.
TEST_F(changes, events_filter_by_change_class_and_changed_path) {
  ASSERT_TRUE(story().told) << "the Deployment's story was not recorded";
  const auto base = "/api/v1/events?namespace=" + ns
    + "&resourceType=deployments&resourceName=web";
  auto ids_of = [](const json& recs) {
    std::set<std::string> out;
    for (const auto& r : recs)
      out.insert(str(r, "id"));
    return out;
  };
  const auto create_id = str(story().create, "id");
  const auto scale_id = str(story().scale, "id");
  const auto image_id = str(story().image, "id");

  http_result raw;
  auto replicas
    = get_json(base + "&changeClass=spec&path=/spec/replicas", 200, &raw);
  EXPECT_FALSE(raw.headers["X-Coverage-Gaps"].empty());
  auto ids = ids_of(replicas);
  EXPECT_EQ(ids.count(scale_id), 1u);
  EXPECT_EQ(ids.count(image_id), 0u);
  EXPECT_EQ(ids.count(create_id), 0u);
  for (const auto& r : replicas) {
    EXPECT_EQ(str(r, "changeClass"), "spec") << str(r, "id");
    EXPECT_TRUE(changed(r, "/spec/replicas")) << str(r, "id");
  }

  ids = ids_of(get_json(base + "&path=/spec/template"));
  EXPECT_EQ(ids.count(image_id), 1u);
  EXPECT_EQ(ids.count(scale_id), 0u);

  auto status = get_json(base + "&changeClass=status");
  EXPECT_FALSE(status.empty());
  for (const auto& r : status)
    EXPECT_EQ(str(r, "changeClass"), "status") << str(r, "id");
  ids = ids_of(status);
  EXPECT_EQ(ids.count(scale_id) + ids.count(image_id), 0u);

  ids = ids_of(get_json(base + "&changeClass=spec,status"));
  EXPECT_EQ(ids.count(scale_id), 1u);
  EXPECT_EQ(ids.count(image_id), 1u);
  EXPECT_EQ(ids.count(create_id), 1u);

  auto err = get_json(base + "&changeClass=bogus", 400);
  EXPECT_EQ(str(err, "parameter"), "changeClass") << err;
  err = get_json(base + "&path=spec/replicas", 400);
  EXPECT_EQ(str(err, "parameter"), "path") << err;
  save_example("error-path", base + "&path=spec/replicas");
}

// A Pod whose container cannot pull its image: the kubelet's status write
// (written here as the fake kubelet does not pull images) is told in words.
TEST_F(changes, a_pod_in_image_pull_back_off_says_so_in_its_message) {
  // Unschedulable: no node has that label, so nothing else writes its
  // container statuses.
  run_kubectl("apply -n " + ns + " -f -", R"(apiVersion: v1
kind: Pod
metadata:
  name: pull
spec:
  nodeSelector: {kws.test/nowhere: "true"}
  containers:
  - name: app
    image: x
)");
  wait_recorded("pods", "pull");
  run_kubectl(
    "patch pod pull -n " + ns
    + R"( --subresource=status --type=merge -p '{"status":{"containerStatuses":)"
      R"([{"name":"app","image":"x","imageID":"","ready":false,)"
      R"("restartCount":0,"state":{"waiting":{"reason":"ImagePullBackOff",)"
      R"("message":"Back-off pulling image \"x\""}}}]}}')");
  const std::string expected
    = R"(container app waiting: ImagePullBackOff: Back-off pulling image "x")";
  json found;
  ASSERT_TRUE(eventually(
    [&] {
      for (const auto& rec : history("pods", "pull"))
        if (str(rec, "message").find(expected) != std::string::npos)
          found = rec;
      return !found.is_null();
    },
    patience))
    << "no record of pull says: " << expected;
  EXPECT_EQ(str(found, "verb"), "update");
  EXPECT_EQ(str(found, "message").rfind("Update pods pull: " + expected, 0), 0u)
    << str(found, "message");
  EXPECT_EQ(str(found, "changeClass"), "status");
  EXPECT_TRUE(changed(found, "/status/containerStatuses"))
    << found["changedPaths"];
  EXPECT_EQ(strings_of(found["managers"]),
            std::vector<std::string>{"kubectl-patch"});
  EXPECT_EQ(found["fieldManagers"].value(
              "/status/containerStatuses/0/state/waiting/reason", ""),
            "kubectl-patch")
    << found["fieldManagers"];
  save_example("update-record-pod", "/api/v1/records/" + str(found, "id"));
}

// Coverage: no gap in a quiet window; after a stop and a start of the server
// every watched type has a "server down" gap over the downtime. Restarts the
// server: keep it last.
TEST_F(changes, coverage_is_empty_when_quiet_and_reports_the_server_downtime) {
  // Between every type's first list and the restart: no gap.
  if (story().told) {
    auto quiet = get_json("/api/v1/coverage?start=" + rfc3339(story().t0)
                          + "&end=" + rfc3339(story().t2));
    EXPECT_EQ(quiet, (json{{"gaps", json::array()}}));
    save_example("coverage-none",
                 "/api/v1/coverage?start=" + rfc3339(story().t0)
                   + "&end=" + rfc3339(story().t2));
  }
  // Long before anything: every type was "not yet watched", nothing else.
  auto early = get_json(
    "/api/v1/coverage?start=2001-01-01T00:00:00Z&end=2001-01-02T00:00:00Z");
  ASSERT_TRUE(early.contains("gaps") && early["gaps"].is_array()) << early;
  std::set<std::string> unwatched;
  for (const auto& gap : early["gaps"]) {
    EXPECT_EQ(str(gap, "reason"), "not yet watched") << gap;
    EXPECT_EQ(str(gap, "start"), "2001-01-01T00:00:00Z") << gap;
    EXPECT_EQ(str(gap, "end"), "2001-01-02T00:00:00Z") << gap;
    unwatched.insert(str(gap, "resourceType") + "." + str(gap, "group"));
  }
  EXPECT_EQ(unwatched.count("deployments.apps"), 1u) << early;
  EXPECT_EQ(unwatched.count("configmaps."), 1u) << early;
  // Without a start there is no "before".
  auto all = get_json("/api/v1/coverage?end=2001-01-02T00:00:00Z");
  EXPECT_EQ(all, (json{{"gaps", json::array()}}));
  auto err = get_json("/api/v1/coverage?start=later", 400);
  EXPECT_EQ(str(err, "parameter"), "start") << err;

  // Deployments are watched (the story's records came from that watch).
  ASSERT_TRUE(
    eventually([] { return !history("deployments", "web").empty(); }, patience))
    << "deployments are not recorded";
  auto stopped = now_ns();
  ASSERT_EQ(server->terminate(10s), 0) << "log in " << (dir / "server.log");
  std::this_thread::sleep_for(3s);
  auto restarted = now_ns();
  start_server();
  ASSERT_TRUE(server && server->running());

  const auto target = "/api/v1/coverage?start=" + rfc3339(stopped - ns_per_s)
    + "&end=" + rfc3339(now_ns() + 60 * ns_per_s);
  auto down_gap = [&](const json& cov, const std::string& resource,
                      const std::string& group) {
    if (!cov.contains("gaps"))
      return json();
    for (const auto& gap : cov.at("gaps"))
      if (str(gap, "resourceType") == resource && str(gap, "group") == group
          && str(gap, "reason") == "server down")
        return gap;
    return json();
  };
  json cov;
  ASSERT_TRUE(eventually(
    [&] {
      auto res = http_get(port, target);
      cov = json::parse(res.body, nullptr, false);
      return res.status == 200
        && !down_gap(cov, "deployments", "apps").is_null();
    },
    patience))
    << "no \"server down\" gap of deployments.apps; got " << cov.dump();
  save_example("coverage", target);
  for (const auto& [resource, group] :
       {std::pair<std::string, std::string>{"deployments", "apps"},
        std::pair<std::string, std::string>{"configmaps", ""},
        std::pair<std::string, std::string>{"pods", ""}}) {
    auto gap = down_gap(cov, resource, group);
    ASSERT_FALSE(gap.is_null()) << resource << ": " << cov.dump();
    auto start = parse_rfc3339(str(gap, "start"));
    auto end = parse_rfc3339(str(gap, "end"));
    EXPECT_LE(start, stopped + ns_per_s) << gap;
    EXPECT_GE(start, stopped - 60 * ns_per_s) << gap;
    EXPECT_GE(end, restarted - ns_per_s) << gap;
    EXPECT_LE(end, now_ns()) << gap;
  }
  // Answers over the downtime say so.
  http_result raw;
  get_json("/api/v1/events?resourceType=deployments&start="
             + rfc3339(stopped - ns_per_s) + "&end=" + rfc3339(now_ns()),
           200, &raw);
  EXPECT_NE(raw.headers["X-Coverage-Gaps"], "0");
  EXPECT_FALSE(raw.headers["X-Coverage-Gaps"].empty());
  // ... and a window before the stop still has none.
  get_json("/api/v1/changes?namespace=" + ns + "&start=" + rfc3339(story().t0)
             + "&end=" + rfc3339(story().t2),
           200, &raw);
  EXPECT_EQ(raw.headers["X-Coverage-Gaps"], "0");
}

} // namespace
} // namespace kws::test
