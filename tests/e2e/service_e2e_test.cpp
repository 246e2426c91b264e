// k8s-watch-server against the real control plane: objects written with
// kubectl must show up in the REST API once each, with correct fields;
// Events link to their objects; CRDs created at runtime are watched.
// service_e2e_resilience_test.cpp holds the rest of the suite.
#include "storage/rocks_store.hpp"
#include "storage/secret_digest.hpp"
#include "tests/e2e/service_fixture.hpp"
#include "tests/support/contract_record.hpp"
#include "tests/support/http_client.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace kws::test {
namespace {

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
  // The first backup makes backupRoot; a relative name goes under it.
  auto backup = dir / "backups" / "today";
  auto restored = dir / "restored";
  auto run = [](const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str());
  };
  const auto backup_cmd
    = binary + " backup --port " + std::to_string(admin_port);
  // The API's port does not serve it.
  EXPECT_NE(run(binary + " backup --port " + std::to_string(port)
                + " --dest elsewhere"),
            0);
  EXPECT_EQ(http_call(port, "POST", "/admin/backup?dest=x").status, 404);
  // The server keeps ingesting while the backup is written.
  ASSERT_EQ(run(backup_cmd + " --dest today"), 0);
  ASSERT_TRUE(std::filesystem::exists(backup / "CURRENT"));
  EXPECT_NE(run(backup_cmd + " --dest " + (dir / "elsewhere").string()), 0)
    << "a destination outside backupRoot must be refused";
  EXPECT_FALSE(std::filesystem::exists(dir / "elsewhere"));
  EXPECT_NE(run(backup_cmd + " --dest " + backup.string()), 0)
    << "a backup must not go over an existing one";
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
  // Secret values are never stored, only digests keyed with the install's
  // key: hashing a guess ("hunter2", base64 as the apiserver stores it)
  // does not confirm it.
  auto doc = get_json("/api/v1/events?namespace=" + ns
                      + "&resourceType=secrets&resourceName=s1");
  ASSERT_TRUE(doc.IsArray() && doc.Size() > 0);
  std::string data = doc[0]["objectChanges"]["data"]["password"].GetString();
  EXPECT_EQ(data.rfind("hmac-sha256:", 0), 0u) << data;
  EXPECT_NE(data.substr(12), storage::sha256_digest("aHVudGVyMg==").substr(7));
  EXPECT_EQ(data.find("aHVudGVyMg=="), std::string::npos);
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

} // namespace
} // namespace kws::test
