// k8s-watch-server against the real control plane: objects written with
// kubectl must show up in the REST API once each, with correct fields;
// Events link to their objects; CRDs created at runtime are watched; a restart
// resumes without duplicates or gaps.
#include "messages/errors.hpp"
#include "storage/rocks_store.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/contract_record.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/tcp_proxy.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kws::test {
namespace {

using namespace std::chrono_literals;

constexpr auto patience = 60s;

struct service : ::testing::Test {
  static inline cluster_state cluster;
  static inline std::filesystem::path dir;
  static inline uint16_t port = 0;
  static inline std::unique_ptr<server_process> server;
  static inline std::string ns;

  static std::map<std::string, std::string> server_env() {
    return {{"KUBECONFIG", cluster.kubeconfig},
            {"STORAGE_PATH", (dir / "store").string()},
            {"SERVER_PORT", std::to_string(port)},
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
    ns = "e2e-" + std::to_string(::getpid());
    ASSERT_EQ(kubectl(cluster, "create namespace " + ns), 0);
    start_server();
  }

  static void TearDownTestSuite() {
    // A clean exit, also under LeakSanitizer (which fails it on a leak).
    if (server && server->running()) {
      EXPECT_EQ(server->terminate(10s), 0)
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

TEST_F(service, health_readiness_and_metrics_answer) {
  EXPECT_EQ(http_get(port, "/health").status, 200);
  EXPECT_EQ(http_get(port, "/livez").status, 200);
  EXPECT_EQ(http_get(port, "/readyz").status, 200);
  auto metrics = http_get(port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("kws_watchers"), std::string::npos);
  EXPECT_EQ(http_get(port, "/nope").status, 404);
}

TEST_F(service, a_configmap_lifecycle_is_recorded_once_with_contract_fields) {
  std::string out;
  ASSERT_EQ(kubectl(cluster,
                    "create configmap life -n " + ns + " --from-literal=a=1",
                    &out),
            0)
    << out;
  ASSERT_EQ(kubectl(cluster,
                    "patch configmap life -n " + ns
                      + " --type merge -p '{\"data\":{\"a\":\"2\"}}'",
                    &out),
            0)
    << out;
  ASSERT_EQ(kubectl(cluster, "delete configmap life -n " + ns, &out), 0) << out;
  ASSERT_TRUE(eventually(
    [] {
      return has_verbs("configmaps", "life", {"create", "update", "delete"});
    },
    patience))
    << "got: " << ::testing::PrintToString(verbs_of("configmaps", "life"));
  auto doc = get_json("/api/v1/events?namespace=" + ns
                      + "&resourceType=configmaps&resourceName=life");
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 3u);
  std::vector<int> statuses;
  for (auto& rec : doc.GetArray()) {
    expect_contract_record(rec);
    EXPECT_FALSE(rec["objectChanges"]["metadata"].HasMember("managedFields"));
    EXPECT_STREQ(rec["namespace"].GetString(), ns.c_str());
    EXPECT_STREQ(rec["resourceType"].GetString(), "configmaps");
    EXPECT_STREQ(rec["stage"].GetString(), "ResponseComplete");
    EXPECT_EQ(std::string{rec["requestURI"].GetString()},
              "/api/v1/namespaces/" + ns + "/configmaps/life");
    EXPECT_NE(std::string{rec["user"].GetString()}, "");
    statuses.push_back(rec["responseStatus"].GetInt());
  }
  EXPECT_EQ(statuses, (std::vector<int>{201, 200, 200}));
  EXPECT_STREQ(doc[1]["objectChanges"]["data"]["a"].GetString(), "2");
  EXPECT_STREQ(doc[0]["message"].GetString(), "Create configmaps life");
}

TEST_F(service, an_online_backup_restores_to_the_same_answers) {
  std::string out;
  ASSERT_EQ(kubectl(cluster,
                    "create configmap saved -n " + ns + " --from-literal=a=1",
                    &out),
            0)
    << out;
  ASSERT_TRUE(eventually(
    [] { return has_verbs("configmaps", "saved", {"create"}); }, patience));
  auto binary = std::string{std::getenv("KWS_SERVER_BINARY")};
  auto backup = dir / "backup";
  auto restored = dir / "restored";
  auto run = [](const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str());
  };
  // The server keeps ingesting while the backup is written.
  ASSERT_EQ(run(binary + " backup --port " + std::to_string(port) + " --dest "
                + backup.string()),
            0);
  EXPECT_NE(run(binary + " backup --port " + std::to_string(port)
                + " --dest relative/path"),
            0)
    << "a relative destination must be refused";
  ASSERT_EQ(run(binary + " restore --from " + backup.string() + " --dest "
                + restored.string()),
            0);
  EXPECT_NE(run(binary + " restore --from " + backup.string() + " --dest "
                + restored.string()),
            0)
    << "restoring over an existing store must be refused";
  storage::store_options opts;
  opts.path = restored.string();
  auto store = storage::rocks_store::open(opts);
  ASSERT_TRUE(store) << render(store.error());
  event_query q;
  q.ns = ns;
  q.resource = "configmaps";
  q.name = "saved";
  auto page = store->query(q);
  ASSERT_TRUE(page);
  auto live = http_get(port,
                       "/api/v1/events?namespace=" + ns
                         + "&resourceType=configmaps&resourceName=saved");
  std::string joined = "[";
  for (size_t i = 0; i < page->records.size(); ++i)
    joined += (i ? "," : "") + page->records[i];
  joined += "]";
  EXPECT_EQ(joined, live.body);
}

TEST_F(service, every_default_type_is_watched) {
  apply(R"(
apiVersion: v1
kind: Secret
metadata: {name: s1}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Service
metadata: {name: svc1}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: pvc1}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: job1}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cron1}
spec:
  schedule: "0 0 1 1 *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing1}
spec:
  defaultBackend:
    service: {name: svc1, port: {number: 80}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np1}
spec:
  podSelector: {}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sts1}
spec:
  serviceName: svc1
  replicas: 0
  selector: {matchLabels: {app: sts1}}
  template:
    metadata: {labels: {app: sts1}}
    spec:
      containers: [{name: c, image: busybox}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds1}
spec:
  selector: {matchLabels: {app: ds1}}
  template:
    metadata: {labels: {app: ds1}}
    spec:
      containers: [{name: c, image: busybox}]
)");
  // (resource, name); not a structured binding, which clang 14 cannot
  // capture in a lambda.
  for (const auto& object : std::vector<std::pair<std::string, std::string>>{
         {"secrets", "s1"},
         {"services", "svc1"},
         {"persistentvolumeclaims", "pvc1"},
         {"jobs", "job1"},
         {"cronjobs", "cron1"},
         {"ingresses", "ing1"},
         {"networkpolicies", "np1"},
         {"statefulsets", "sts1"},
         {"daemonsets", "ds1"}})
    EXPECT_TRUE(eventually(
      [&] {
        auto v = verbs_of(object.first, object.second);
        return !v.empty() && v.front() == "create";
      },
      patience))
      << object.first << "/" << object.second;
  // Secret values are never stored, only their digests.
  auto doc = get_json("/api/v1/events?namespace=" + ns
                      + "&resourceType=secrets&resourceName=s1");
  ASSERT_TRUE(doc.IsArray() && doc.Size() > 0);
  std::string data = doc[0]["objectChanges"]["data"]["password"].GetString();
  EXPECT_EQ(data.rfind("sha256:", 0), 0u) << data;
  // Cluster-scoped objects: the namespace itself.
  EXPECT_TRUE(eventually(
    [] {
      auto d = get_json("/api/v1/events/_cluster/namespaces/" + ns, 0);
      return d.IsObject() && d.HasMember("watchEvents")
        && d["watchEvents"].Size() > 0;
    },
    patience));
}

TEST_F(service, controller_events_appear_in_related_events) {
  apply(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx}]
)");
  auto reasons_of = [](const std::string& resource, const std::string& name) {
    std::vector<std::string> out;
    auto res
      = http_get(port, "/api/v1/events/" + ns + "/" + resource + "/" + name);
    if (res.status != 200)
      return out;
    rapidjson::Document doc;
    doc.Parse(res.body.c_str());
    for (auto& rec : doc["relatedEvents"].GetArray())
      if (rec.HasMember("reason"))
        out.emplace_back(rec["reason"].GetString());
    return out;
  };
  auto has_reason = [&](const std::string& resource, const std::string& name,
                        const std::string& reason) {
    auto rs = reasons_of(resource, name);
    return std::find(rs.begin(), rs.end(), reason) != rs.end();
  };
  EXPECT_TRUE(eventually(
    [&] { return has_reason("deployments", "web", "ScalingReplicaSet"); },
    patience))
    << ::testing::PrintToString(reasons_of("deployments", "web"));
  // The ReplicaSet's SuccessfulCreate, found through the kind form of the
  // resource type.
  auto rs_name = [] {
    auto doc = get_json("/api/v1/events?namespace=" + ns
                        + "&resourceType=ReplicaSet&verb=create");
    return doc.IsArray() && doc.Size() > 0
      ? std::string{doc[0]["resourceName"].GetString()}
      : std::string{};
  };
  std::string rs;
  ASSERT_TRUE(eventually([&] { return !(rs = rs_name()).empty(); }, patience));
  EXPECT_TRUE(eventually(
    [&] { return has_reason("replicasets", rs, "SuccessfulCreate"); },
    patience));
}

TEST_F(service, a_crd_created_after_start_is_watched) {
  std::string out;
  ASSERT_EQ(kubectl(cluster, "apply -f -", &out, R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.e2e.example.com}
spec:
  group: e2e.example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
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
  ASSERT_EQ(kubectl(cluster,
                    "wait --for=condition=Established --timeout=60s "
                    "crd/gizmos.e2e.example.com",
                    &out),
            0)
    << out;
  // Retry: the apiserver serves the new type a moment after Established.
  ASSERT_TRUE(eventually(
    [&] {
      return kubectl(cluster, "apply -n " + ns + " -f -", &out,
                     "apiVersion: e2e.example.com/v1\nkind: Gizmo\n"
                     "metadata: {name: g1}\nspec: {size: 3}\n")
        == 0;
    },
    patience))
    << out;
  EXPECT_TRUE(
    eventually([] { return has_verbs("gizmos", "g1", {"create"}); }, patience))
    << ::testing::PrintToString(verbs_of("gizmos", "g1"));
  auto doc = get_json("/api/v1/events/" + ns + "/gizmos.e2e.example.com/g1");
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(doc["watchEvents"].Size(), 1u);
  // Deleting the CRD stops its watcher; the history stays.
  ASSERT_EQ(kubectl(cluster, "delete crd gizmos.e2e.example.com", &out), 0)
    << out;
  EXPECT_TRUE(eventually(
    [] { return log_contains("Stopped watching e2e.example.com/v1 (Gizmo)"); },
    patience));
  auto after = get_json("/api/v1/events/" + ns + "/gizmos/g1");
  ASSERT_TRUE(after.IsObject());
  ASSERT_GE(after["watchEvents"].Size(), 1u);
  EXPECT_STREQ(after["watchEvents"][0]["verb"].GetString(), "create");
  EXPECT_EQ(http_get(port, "/readyz").status, 200);
}

TEST_F(service, types_the_service_account_may_not_read_are_reported_not_fatal) {
  // A ServiceAccount that may read only ConfigMaps and Namespaces.
  auto name = "kws-e2e-limited-" + std::to_string(::getpid());
  std::string out;
  ASSERT_EQ(kubectl(cluster, "create serviceaccount limited -n " + ns, &out), 0)
    << out;
  ASSERT_EQ(kubectl(cluster,
                    "create clusterrole " + name
                      + " --verb=get,list,watch"
                        " --resource=configmaps,namespaces",
                    &out),
            0)
    << out;
  ASSERT_EQ(kubectl(cluster,
                    "create clusterrolebinding " + name + " --clusterrole="
                      + name + " --serviceaccount=" + ns + ":limited",
                    &out),
            0)
    << out;
  std::string token;
  ASSERT_EQ(kubectl(cluster, "create token limited -n " + ns, &token), 0)
    << token;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
    token.pop_back();
  auto kubeconfig = dir / "limited.kubeconfig";
  std::ofstream{kubeconfig}
    << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
    << "    server: " << cluster.api_url << "\n"
    << "    certificate-authority: " << cluster.ca_file << "\n"
    << "users:\n- name: u\n  user:\n    token: " << token << "\n"
    << "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
    << "current-context: x\n";
  auto limited_port = free_port();
  server_process limited{{{"KUBECONFIG", kubeconfig.string()},
                          {"STORAGE_PATH", (dir / "limited-store").string()},
                          {"SERVER_PORT", std::to_string(limited_port)},
                          {"CONFIG_PATH", (dir / "resources.yaml").string()}},
                         (dir / "limited.log").string()};
  // Ready although most types are refused: they are reported, not waited for.
  test::http_result ready;
  EXPECT_TRUE(eventually(
    [&] {
      ready = http_get(limited_port, "/readyz");
      return ready.status == 200;
    },
    patience))
    << ready.body;
  EXPECT_NE(ready.body.find(R"("pods")"), std::string::npos) << ready.body;
  EXPECT_EQ(ready.body.find(R"("configmaps")"), std::string::npos)
    << ready.body;
  ASSERT_EQ(kubectl(cluster, "create configmap seen-by-limited -n " + ns, &out),
            0)
    << out;
  EXPECT_TRUE(eventually(
    [&] {
      auto res = http_get(limited_port,
                          "/api/v1/events?namespace=" + ns
                            + "&resourceName=seen-by-limited");
      return res.status == 200
        && res.body.find(R"("verb":"create")") != std::string::npos;
    },
    patience));
  EXPECT_EQ(limited.terminate(5s), 0);
  kubectl(cluster, "delete clusterrolebinding " + name);
  kubectl(cluster, "delete clusterrole " + name);
}

TEST_F(service, readiness_is_503_until_the_apiserver_answers) {
  // A second server talks to the apiserver through a proxy that holds every
  // answer: it serves, but cannot have listed anything, so it must not be
  // ready; once the answers pass, it must become ready.
  auto api_port = static_cast<uint16_t>(
    std::stoi(cluster.api_url.substr(cluster.api_url.rfind(':') + 1)));
  tcp_proxy proxy{api_port, true};
  ASSERT_NE(proxy.port(), 0);
  std::stringstream kubeconfig;
  kubeconfig << std::ifstream{cluster.kubeconfig}.rdbuf();
  auto text = kubeconfig.str();
  auto at = text.find(cluster.api_url);
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, cluster.api_url.size(),
               "https://127.0.0.1:" + std::to_string(proxy.port()));
  auto proxied = dir / "proxied.kubeconfig";
  std::ofstream{proxied} << text;
  auto held_port = free_port();
  server_process held{{{"KUBECONFIG", proxied.string()},
                       {"STORAGE_PATH", (dir / "held-store").string()},
                       {"SERVER_PORT", std::to_string(held_port)},
                       {"CONFIG_PATH", (dir / "resources.yaml").string()}},
                      (dir / "held.log").string()};
  ASSERT_TRUE(eventually(
    [&] { return http_get(held_port, "/health").status == 200; }, patience));
  ASSERT_TRUE(eventually([&] { return proxy.connections() > 0; }, patience))
    << "the server never connected to the apiserver";
  auto before = http_get(held_port, "/readyz");
  EXPECT_EQ(before.status, 503) << before.body;
  EXPECT_NE(before.body.find(R"("status":"not ready")"), std::string::npos)
    << before.body;
  proxy.release();
  test::http_result after;
  EXPECT_TRUE(eventually(
    [&] {
      after = http_get(held_port, "/readyz");
      return after.status == 200;
    },
    patience))
    << after.status << " " << after.body;
  EXPECT_NE(after.body.find(R"("status":"ready")"), std::string::npos)
    << after.body;
  EXPECT_EQ(held.terminate(10s), 0);
}

TEST_F(service, bad_queries_are_400_naming_the_parameter) {
  auto res = http_get(port, "/api/v1/events?start=yesterday");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find(R"("parameter":"start")"), std::string::npos)
    << res.body;
  res = http_get(port, "/api/v1/events?resourceType=nosuchthings");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find(R"("parameter":"resourceType")"), std::string::npos)
    << res.body;
  EXPECT_EQ(
    http_get(port, "/api/v1/events/" + ns + "/pods/never-existed").status, 404);
}

// Runs last (gtest keeps declaration order): it restarts the shared server.
TEST_F(service, a_restart_resumes_without_duplicates_or_gaps) {
  std::string out;
  ASSERT_EQ(kubectl(cluster,
                    "create configmap keep -n " + ns + " --from-literal=v=1",
                    &out),
            0)
    << out;
  ASSERT_EQ(kubectl(cluster, "create configmap doomed -n " + ns, &out), 0)
    << out;
  ASSERT_TRUE(eventually(
    [] {
      return has_verbs("configmaps", "keep", {"create"})
        && has_verbs("configmaps", "doomed", {"create"});
    },
    patience));
  // SIGTERM: a clean exit within 5 s.
  EXPECT_EQ(server->terminate(5s), 0);
  ASSERT_EQ(kubectl(cluster,
                    "patch configmap keep -n " + ns
                      + " --type merge -p '{\"data\":{\"v\":\"2\"}}'",
                    &out),
            0)
    << out;
  ASSERT_EQ(kubectl(cluster, "delete configmap doomed -n " + ns, &out), 0)
    << out;
  start_server();
  EXPECT_TRUE(eventually(
    [] {
      return has_verbs("configmaps", "keep", {"create", "update"})
        && has_verbs("configmaps", "doomed", {"create", "delete"});
    },
    patience))
    << ::testing::PrintToString(verbs_of("configmaps", "keep")) << " "
    << ::testing::PrintToString(verbs_of("configmaps", "doomed"));
  // Nothing that existed before the restart is recorded again.
  auto doc = get_json("/api/v1/events?namespace=" + ns
                      + "&resourceType=configmaps&verb=create");
  std::map<std::string, int> creates;
  for (auto& rec : doc.GetArray())
    ++creates[rec["resourceName"].GetString()];
  for (auto& [name, n] : creates)
    EXPECT_EQ(n, 1) << name;
}

} // namespace
} // namespace kws::test
