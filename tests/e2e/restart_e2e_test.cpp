// k8s-watch-server through restarts and outages, on a control plane of its
// own: audit level RequestResponse (every write carries the object it left),
// no automatic etcd compaction and no watch cache for ConfigMaps (so a test
// decides when a resourceVersion is compacted and gets a real 410), and no
// leader election (the controllers outlive a kube-apiserver restart).
#include "tests/support/audit_oracle.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/contract_record.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/service_queries.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

namespace kws::test {
namespace {

using namespace std::chrono_literals;

constexpr auto patience = 60s;

struct restarts : ::testing::Test {
  static inline std::unique_ptr<private_cluster> cluster;
  static inline std::filesystem::path dir;
  static inline uint16_t port = 0;
  static inline std::unique_ptr<server_process> server;
  static inline std::string ns;

  static const cluster_state& state() { return cluster->state(); }

  static void start_server() {
    server = std::make_unique<server_process>(
      std::map<std::string, std::string>{
        {"KUBECONFIG", state().kubeconfig},
        {"STORAGE_PATH", (dir / "store").string()},
        {"SERVER_PORT", std::to_string(port)},
        {"CONFIG_PATH", (dir / "resources.yaml").string()}},
      (dir / "server.log").string());
    ASSERT_TRUE(
      eventually([] { return http_get(port, "/readyz").status == 200; }, 120s))
      << "server never became ready; log in " << (dir / "server.log");
  }

  static void SetUpTestSuite() {
    dir = std::filesystem::temp_directory_path()
      / ("kws-e2e-restarts-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    cluster = std::make_unique<private_cluster>(
      dir.string(),
      std::map<std::string, std::string>{
        {"KWS_AUDIT_LEVEL", "RequestResponse"},
        {"KWS_ETCD_COMPACTION_INTERVAL", "0"},
        {"KWS_WATCH_CACHE_SIZES", "configmaps#0"},
        {"KWS_LEADER_ELECT", "false"}});
    if (!cluster->ok())
      return;
    std::ofstream{dir / "resources.yaml"} << "discoverCRDs: true\n"
                                             "flushIntervalMs: 50\n";
    port = free_port();
    ns = "restarts-" + std::to_string(::getpid());
    ASSERT_EQ(kubectl(state(), "create namespace " + ns), 0);
    start_server();
  }

  static void TearDownTestSuite() {
    // A clean exit, also under LeakSanitizer (which fails it on a leak).
    if (server && server->running()) {
      EXPECT_EQ(server->terminate(30s), 0)
        << "the server's exit; log in " << (dir / "server.log");
    }
    server.reset();
    cluster.reset();
    // Logs, store and audit log stay for a failure's diagnosis only.
    if (::testing::UnitTest::GetInstance()->failed_test_count() == 0)
      std::filesystem::remove_all(dir);
  }

  void SetUp() override {
    ASSERT_TRUE(cluster && cluster->ok()) << "the cluster did not start";
    ASSERT_TRUE(server && server->running()) << "the server is not running";
  }

  /// Records of one object in `ns`, oldest first.
  static std::vector<record_digest> history_of(const std::string& resource,
                                               const std::string& name) {
    std::vector<record_digest> out;
    if (!fetch_all(port,
                   "namespace=" + ns + "&resourceType=" + resource
                     + "&resourceName=" + name,
                   out))
      out.clear();
    return out;
  }

  static std::vector<std::string> verbs_of(const std::string& resource,
                                           const std::string& name) {
    std::vector<std::string> out;
    for (auto& rec : history_of(resource, name))
      out.push_back(rec.verb);
    return out;
  }

  static bool log_has(const std::string& text) {
    std::ifstream in{dir / "server.log"};
    std::string line;
    while (std::getline(in, line))
      if (line.find(text) != std::string::npos)
        return true;
    return false;
  }

  static void run_kubectl(const std::string& args) {
    std::string out;
    ASSERT_EQ(kubectl(state(), args, &out), 0) << args << ": " << out;
  }
};

// Restarts the server twice while the churn generator writes (SIGTERM, then
// kill -9) and checks its records against the audit log: every version an
// apiserver write left is recorded exactly once, and every record is
// explained by a write.
TEST_F(restarts, churn_across_restarts_matches_the_audit_log_exactly) {
  // The CRD exists and is watched before churn starts, so no Widget changes
  // before its watcher's first list.
  std::string out;
  ASSERT_EQ(kubectl(state(), "apply -f -", &out, churn_crd_manifest), 0) << out;
  ASSERT_TRUE(eventually(
    [] { return log_has("Started watching churn.kws.test/v1 (Widget)"); },
    patience));
  // Readiness covers the new watcher: 200 again means it listed.
  ASSERT_TRUE(eventually([] { return http_get(port, "/readyz").status == 200; },
                         patience));

  auto prefix = "rs" + std::to_string(::getpid());
  audit_oracle oracle{state().audit_log, prefix, churn_watched_resources};
  // About 240 operations over 4 namespaces: under the 100 per namespace
  // after which the generator starts deleting namespaces.
  background_command churn{
    cluster_scripts_dir()
      + "/churn --rate 6 --duration 40s --seed 11 --namespaces 4 --prefix "
      + prefix,
    {{"KWS_CLUSTER_DIR", state().dir}},
    (dir / "churn.log").string()};
  auto writes_grow_by = [&](size_t n) {
    auto target = oracle.num_writes + n;
    return eventually(
      [&] {
        oracle.update();
        return oracle.num_writes >= target;
      },
      patience);
  };
  ASSERT_TRUE(writes_grow_by(80)) << "churn made no progress";
  EXPECT_EQ(server->terminate(30s), 0);
  ASSERT_TRUE(writes_grow_by(40)) << "churn made no progress";
  start_server();
  ASSERT_TRUE(writes_grow_by(80)) << "churn made no progress";
  server->kill();
  ASSERT_TRUE(writes_grow_by(40)) << "churn made no progress";
  start_server();
  EXPECT_EQ(churn.wait(120s), 0) << "see " << (dir / "churn.log");
  ASSERT_TRUE(oracle.problems.empty())
    << ::testing::PrintToString(oracle.problems);

  // Controllers keep writing for a while after the churn stops, so the two
  // sides are compared until one comparison sees both at the same point.
  std::vector<std::string> diffs;
  size_t num_records = 0;
  auto consistent = eventually(
    [&] {
      std::vector<record_digest> records;
      oracle.update();
      if (!fetch_namespaces(port, oracle.namespaces, records))
        return false;
      // The log may trail the watch by a moment: read it after the records.
      oracle.update();
      num_records = records.size();
      diffs = compare_with_oracle(oracle, records);
      return diffs.empty();
    },
    120s);
  auto num_diffs = diffs.size();
  if (diffs.size() > 30)
    diffs.resize(30);
  EXPECT_TRUE(consistent) << num_diffs << " differences, the first: "
                          << ::testing::PrintToString(diffs);
  // Lines read while comparing must be usable too.
  EXPECT_TRUE(oracle.problems.empty())
    << ::testing::PrintToString(oracle.problems);
  EXPECT_GT(oracle.num_writes, 200u);
  EXPECT_GT(num_records, 200u);
  std::cout << "[ restarts ] " << oracle.num_writes << " audited writes, "
            << num_records << " records, " << oracle.namespaces.size()
            << " namespaces\n";
}

// The server is down while its ConfigMap resourceVersion is compacted away:
// the resumed watch gets 410, the server relists, infers the delete it missed
// (finalStateUnknown) and records the latest state of the others once.
TEST_F(restarts, a_compacted_resume_relists_and_infers_missed_deletes) {
  run_kubectl("create configmap stays -n " + ns + " --from-literal=v=1");
  run_kubectl("create configmap doomed -n " + ns + " --from-literal=v=1");
  ASSERT_TRUE(eventually(
    [] {
      return verbs_of("configmaps", "stays")
        == std::vector<std::string>{"create"}
      && verbs_of("configmaps", "doomed") == std::vector<std::string>{"create"};
    },
    patience));
  auto doomed = history_of("configmaps", "doomed");
  ASSERT_EQ(doomed.size(), 1u);
  auto doomed_uid = doomed.front().uid;
  EXPECT_EQ(server->terminate(30s), 0);
  run_kubectl("patch configmap stays -n " + ns
              + " --type merge -p '{\"data\":{\"v\":\"2\"}}'");
  run_kubectl("patch configmap stays -n " + ns
              + " --type merge -p '{\"data\":{\"v\":\"3\"}}'");
  run_kubectl("delete configmap doomed -n " + ns);
  run_kubectl("create configmap newborn -n " + ns + " --from-literal=v=1");
  // Compact etcd up to now, as the apiserver's periodic compaction would;
  // ConfigMaps are not cached, so a watch from an older version gets 410.
  auto etcd_port = static_cast<uint16_t>(
    std::stoi(state().etcd_url.substr(state().etcd_url.rfind(':') + 1)));
  auto range = http_call(etcd_port, "POST", "/v3/kv/range",
                         {{"Content-Type", "application/json"}},
                         R"({"key":"Lw==","limit":1})");
  ASSERT_EQ(range.status, 200) << range.body;
  rapidjson::Document doc;
  doc.Parse(range.body.c_str());
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("header")) << range.body;
  std::string revision = doc["header"]["revision"].GetString();
  auto compact
    = http_call(etcd_port, "POST", "/v3/kv/compaction",
                {{"Content-Type", "application/json"}},
                R"({"revision":")" + revision + R"(","physical":true})");
  ASSERT_EQ(compact.status, 200) << compact.body;
  start_server();
  ASSERT_TRUE(eventually(
    [] {
      return verbs_of("configmaps", "stays")
        == std::vector<std::string>{"create", "update"}
      && verbs_of("configmaps", "doomed")
        == std::vector<std::string>{"create", "delete"}
      && verbs_of("configmaps", "newborn")
        == std::vector<std::string>{"create"};
    },
    patience))
    << "stays " << ::testing::PrintToString(verbs_of("configmaps", "stays"))
    << " doomed " << ::testing::PrintToString(verbs_of("configmaps", "doomed"))
    << " newborn "
    << ::testing::PrintToString(verbs_of("configmaps", "newborn"));
  EXPECT_GE(metric(port, "kws_watch_gone_total"), 1) << "no 410 was seen";
  // The relist is reported as a coverage gap: the first patch of `stays`
  // is lost for good, and the service says where.
  auto cov = http_get(port, "/api/v1/coverage");
  ASSERT_EQ(cov.status, 200) << cov.body;
  rapidjson::Document gaps;
  gaps.Parse(cov.body.c_str());
  ASSERT_TRUE(gaps.IsObject() && gaps.HasMember("gaps")
              && gaps["gaps"].IsArray())
    << cov.body;
  bool configmaps_gap = false;
  for (auto& g : gaps["gaps"].GetArray()) {
    // Restarts leave "server down" gaps too; this one is the relist's.
    if (std::string{g["resourceType"].GetString()} != "configmaps"
        || std::string{g["reason"].GetString()} == "server down")
      continue;
    configmaps_gap = true;
    EXPECT_STREQ(g["group"].GetString(), "");
    EXPECT_LT(std::stoll(g["fromResourceVersion"].GetString()),
              std::stoll(g["toResourceVersion"].GetString()))
      << cov.body;
    EXPECT_NE(std::string{g["reason"].GetString()}.find("gone"),
              std::string::npos)
      << cov.body;
  }
  EXPECT_TRUE(configmaps_gap) << cov.body;
  // The inferred delete, with the contract's fields.
  auto res = http_get(port,
                      "/api/v1/events?namespace=" + ns
                        + "&resourceType=configmaps&resourceName=doomed"
                          "&verb=delete");
  rapidjson::Document del;
  del.Parse(res.body.c_str());
  ASSERT_TRUE(del.IsArray() && del.Size() == 1) << res.body;
  expect_contract_record(del[0]);
  EXPECT_TRUE(del[0].HasMember("finalStateUnknown")
              && del[0]["finalStateUnknown"].IsTrue())
    << res.body;
  EXPECT_STREQ(del[0]["uid"].GetString(), doomed_uid.c_str());
  EXPECT_EQ(del[0]["responseStatus"].GetInt(), 200);
  EXPECT_EQ(std::string{del[0]["requestURI"].GetString()},
            "/api/v1/namespaces/" + ns + "/configmaps/doomed");
  // The update carries the latest state, not an intermediate one.
  auto upd = http_get(port,
                      "/api/v1/events?namespace=" + ns
                        + "&resourceType=configmaps&resourceName=stays"
                          "&verb=update");
  rapidjson::Document u;
  u.Parse(upd.body.c_str());
  ASSERT_TRUE(u.IsArray() && u.Size() == 1) << upd.body;
  EXPECT_STREQ(u[0]["objectChanges"]["data"]["v"].GetString(), "3");
  EXPECT_FALSE(u[0].HasMember("finalStateUnknown")) << upd.body;
  // Nothing that existed before the restart is recorded again.
  std::vector<record_digest> configmaps;
  ASSERT_TRUE(fetch_all(port, "namespace=" + ns + "&resourceType=configmaps",
                        configmaps));
  std::map<std::string, int> creates;
  for (auto& rec : configmaps)
    if (rec.verb == "create")
      ++creates[rec.key.name];
  for (auto name : {"stays", "doomed", "newborn"})
    EXPECT_EQ(creates[name], 1) << name;
  for (auto& [name, n] : creates)
    EXPECT_EQ(n, 1) << name;
}

// kube-apiserver goes away for a few seconds and comes back on the same port:
// the server stays ready, reconnects, and records the changes made after the
// outage once, without recording anything from before it again.
TEST_F(restarts, an_apiserver_restart_is_survived) {
  run_kubectl("create configmap before-outage -n " + ns
              + " --from-literal=v=1");
  run_kubectl("create secret generic kept -n " + ns + " --from-literal=k=1");
  ASSERT_TRUE(eventually(
    [] {
      return verbs_of("configmaps", "before-outage")
        == std::vector<std::string>{"create"}
      && verbs_of("secrets", "kept") == std::vector<std::string>{"create"};
    },
    patience));
  auto restarts_before = metric(port, "kws_watch_restarts_total");
  // Readiness is polled during the whole outage.
  std::atomic<bool> outage_over{false};
  std::atomic<int> num_polls{0};
  std::vector<int> not_ready;
  std::thread poller{[&] {
    while (!outage_over) {
      auto status = http_get(port, "/readyz").status;
      ++num_polls;
      if (status != 200)
        not_ready.push_back(status);
      std::this_thread::sleep_for(100ms);
    }
  }};
  std::string out;
  auto rc = cluster->run_script("restart-apiserver --down 3s", &out);
  outage_over = true;
  poller.join();
  ASSERT_EQ(rc, 0) << out;
  EXPECT_GT(num_polls, 20);
  EXPECT_TRUE(not_ready.empty())
    << "/readyz answered " << ::testing::PrintToString(not_ready)
    << " during the outage";
  // Changes right after the outage, while the watches reconnect.
  run_kubectl("patch configmap before-outage -n " + ns
              + " --type merge -p '{\"data\":{\"v\":\"2\"}}'");
  run_kubectl("create configmap after-outage -n " + ns);
  run_kubectl("delete secret kept -n " + ns);
  ASSERT_TRUE(eventually(
    [] {
      return verbs_of("configmaps", "before-outage")
        == std::vector<std::string>{"create", "update"}
      && verbs_of("configmaps", "after-outage")
        == std::vector<std::string>{"create"}
      && verbs_of("secrets", "kept")
        == std::vector<std::string>{"create", "delete"};
    },
    patience))
    << ::testing::PrintToString(verbs_of("configmaps", "before-outage"))
    << ::testing::PrintToString(verbs_of("configmaps", "after-outage"))
    << ::testing::PrintToString(verbs_of("secrets", "kept"));
  EXPECT_GT(metric(port, "kws_watch_restarts_total"), restarts_before)
    << "the watches never noticed the outage";
  EXPECT_EQ(http_get(port, "/readyz").status, 200);
  // Nothing recorded twice across the reconnect (an inferred delete repeats
  // the last version seen, so the verb is part of the key).
  std::vector<record_digest> records;
  ASSERT_TRUE(fetch_all(port, "namespace=" + ns, records));
  ASSERT_FALSE(records.empty());
  std::map<std::string, int> versions;
  for (auto& rec : records)
    ++versions[rec.key.resource + "/" + rec.key.name + " " + rec.verb + " at "
               + rec.resource_version];
  for (auto& [key, n] : versions)
    EXPECT_EQ(n, 1) << key;
}

// The history of a CRD's objects stays queryable by every name of the type
// after the CRD is deleted and the server restarted: the type is known from
// the store, not from the apiserver, which no longer serves it.
TEST_F(restarts, a_deleted_crd_stays_queryable_after_a_restart) {
  std::string out;
  ASSERT_EQ(kubectl(state(), "apply -f -", &out, R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: sprockets.e2e.example.com}
spec:
  group: e2e.example.com
  scope: Namespaced
  names: {plural: sprockets, singular: sprocket, kind: Sprocket}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)"),
            0)
    << out;
  ASSERT_EQ(kubectl(state(),
                    "wait --for=condition=Established --timeout=60s "
                    "crd/sprockets.e2e.example.com",
                    &out),
            0)
    << out;
  // Retry: the apiserver serves the new type a moment after Established.
  ASSERT_TRUE(eventually(
    [&] {
      return kubectl(state(), "apply -n " + ns + " -f -", &out,
                     "apiVersion: e2e.example.com/v1\nkind: Sprocket\n"
                     "metadata: {name: s1}\nspec: {teeth: 12}\n")
        == 0;
    },
    patience))
    << out;
  ASSERT_TRUE(eventually(
    [] {
      return verbs_of("sprockets", "s1") == std::vector<std::string>{"create"};
    },
    patience));
  run_kubectl("delete sprocket s1 -n " + ns);
  ASSERT_TRUE(eventually(
    [] {
      return verbs_of("sprockets", "s1")
        == std::vector<std::string>{"create", "delete"};
    },
    patience))
    << ::testing::PrintToString(verbs_of("sprockets", "s1"));
  run_kubectl("delete crd sprockets.e2e.example.com");
  ASSERT_TRUE(eventually(
    [] { return log_has("Stopped watching e2e.example.com/v1 (Sprocket)"); },
    patience));
  EXPECT_EQ(server->terminate(30s), 0);
  start_server();
  for (std::string form :
       {"sprockets", "Sprocket", "sprockets.e2e.example.com"}) {
    auto res = http_get(port,
                        "/api/v1/events?namespace=" + ns
                          + "&resourceName=s1&resourceType=" + form);
    EXPECT_EQ(res.status, 200) << form << ": " << res.body;
    EXPECT_NE(res.body.find(R"("verb":"create")"), std::string::npos)
      << form << ": " << res.body;
    EXPECT_NE(res.body.find(R"("kind":"Sprocket")"), std::string::npos)
      << form << ": " << res.body;
  }
  auto history = http_get(port, "/api/v1/events/" + ns + "/Sprocket/s1");
  EXPECT_EQ(history.status, 200) << history.body;
  EXPECT_NE(history.body.find(R"("watchEvents":[{)"), std::string::npos)
    << history.body;
  // A type that never existed is still refused.
  EXPECT_EQ(http_get(port, "/api/v1/events?resourceType=nosuchthings").status,
            400);
}

} // namespace
} // namespace kws::test
