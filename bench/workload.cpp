#include "bench/workload.hpp"

#include <array>
#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace kws::bench {

namespace {

constexpr std::array<kind_info, num_kinds> kind_table{{
  {"", "v1", "Pod", "pods", 45},
  {"apps", "v1", "Deployment", "deployments", 10},
  {"apps", "v1", "ReplicaSet", "replicasets", 10},
  {"", "v1", "ConfigMap", "configmaps", 10},
  {"", "v1", "Event", "events", 25},
}};

/// Live objects each kind settles around.
constexpr std::array<size_t, num_kinds> population{{4000, 400, 800, 800, 3000}};

constexpr std::array<const char*, 8> images{
  {"registry.k8s.io/pause:3.10", "docker.io/library/nginx:1.27.3",
   "quay.io/prometheus/node-exporter:v1.8.2", "ghcr.io/acme/checkout:2.14.1",
   "docker.io/library/redis:7.4.1", "gcr.io/distroless/static:nonroot",
   "ghcr.io/acme/payments-api:5.2.0", "docker.io/grafana/loki:3.3.0"}};

constexpr std::array<const char*, 6> apps{
  {"checkout", "payments", "catalog", "frontend", "search", "ledger"}};

constexpr std::array<const char*, 6> reasons{
  {"Scheduled", "Pulling", "Pulled", "Created", "Started", "BackOff"}};

void append(std::string& out, const char* fmt, auto... args) {
  char buf[8192];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n > 0)
    out.append(buf,
               static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n)
                                                   : sizeof buf - 1);
}

} // namespace

const kind_info& info(kind k) {
  return kind_table[static_cast<size_t>(k)];
}

workload::workload(uint64_t seed, int64_t start_ns, int64_t step_ns)
    : rng_(seed), seed_(seed), now_ns_(start_ns), step_ns_(step_ns) {}

std::string workload::namespace_name(unsigned i) {
  return "team-" + std::to_string(i);
}

std::string workload::object_name(kind k, const object& o) const {
  auto app = apps[o.id % apps.size()];
  char buf[96];
  switch (k) {
    case kind::pod:
      std::snprintf(buf, sizeof buf, "%s-%06" PRIx64 "-%05" PRIu64, app,
                    (o.id * 2654435761u) & 0xffffff, o.id % 100000);
      break;
    case kind::deployment:
      std::snprintf(buf, sizeof buf, "%s-%" PRIu64, app, o.id);
      break;
    case kind::replicaset:
      std::snprintf(buf, sizeof buf, "%s-%" PRIu64 "-%08" PRIx64, app, o.id / 2,
                    (o.id * 40503u) & 0xffffffff);
      break;
    case kind::configmap:
      std::snprintf(buf, sizeof buf, "%s-config-%" PRIu64, app, o.id);
      break;
    case kind::event:
      std::snprintf(buf, sizeof buf, "%s.%016" PRIx64, app,
                    o.id * 7919 + seed_);
      break;
  }
  return buf;
}

std::string workload::uid_of(kind k, const object& o) const {
  uint64_t a = (seed_ * 0x9e3779b97f4a7c15ull) ^ (o.id * 0xbf58476d1ce4e5b9ull)
    ^ static_cast<uint64_t>(k);
  uint64_t b = a * 0x94d049bb133111ebull + o.id;
  char buf[40];
  std::snprintf(
    buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012" PRIx64,
    static_cast<unsigned>(a >> 32), static_cast<unsigned>(a & 0xffff),
    static_cast<unsigned>((a >> 16) & 0xfff), static_cast<unsigned>(b & 0xfff),
    static_cast<uint64_t>((b >> 16) & 0xffffffffffffu));
  return buf;
}

std::string workload::timestamp(int64_t ns) const {
  auto secs = static_cast<time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void workload::managed_fields(std::string& out, kind k, const object& o) {
  auto ts = timestamp(now_ns_);
  out += R"(,"managedFields":[)";
  if (k == kind::pod) {
    append(
      out,
      R"({"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"%s","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"%s\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"main\"}":{".":{},"f:env":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}},)",
      ts.c_str(), uid_of(kind::replicaset, o).c_str());
    append(
      out,
      R"({"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"%s","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Initialized\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},"f:containerStatuses":{},"f:hostIP":{},"f:hostIPs":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"10.244.%u.%u\"}":{".":{},"f:ip":{}}},"f:startTime":{}}},"subresource":"status"}])",
      ts.c_str(), static_cast<unsigned>(o.id % 250),
      static_cast<unsigned>(o.generation % 250));
    return;
  }
  const char* mgr = k == kind::event ? "kubelet"
    : k == kind::configmap           ? "kubectl-client-side-apply"
    : k == kind::replicaset          ? "kube-controller-manager"
    : (o.generation % 3 == 0)        ? "kube-controller-manager"
                                     : "kubectl-client-side-apply";
  append(
    out,
    R"({"manager":"%s","operation":"Update","apiVersion":"%s%s%s","time":"%s","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{".":{}},"f:labels":{".":{},"f:app":{}}},"f:spec":{}}}])",
    mgr, info(k).group, *info(k).group ? "/" : "", info(k).version, ts.c_str());
}

void workload::metadata(std::string& out, kind k, const object& o,
                        const char* extra_labels) {
  auto app = apps[o.id % apps.size()];
  append(
    out,
    R"("metadata":{"name":"%s","namespace":"%s","uid":"%s","resourceVersion":"%)" PRIu64
    R"(","generation":%)" PRIu64
    R"(,"creationTimestamp":"%s","labels":{"app":"%s","app.kubernetes.io/part-of":"shop","team":"%s"%s})",
    object_name(k, o).c_str(), namespace_name(o.ns).c_str(),
    uid_of(k, o).c_str(), resource_version_, o.generation,
    timestamp(now_ns_ - static_cast<int64_t>(o.generation) * 1'000'000'000)
      .c_str(),
    app, namespace_name(o.ns).c_str(), extra_labels);
  if (k == kind::pod || k == kind::replicaset) {
    const char* owner_kind = k == kind::pod ? "ReplicaSet" : "Deployment";
    append(
      out,
      R"(,"ownerReferences":[{"apiVersion":"apps/v1","kind":"%s","name":"%s-%)" PRIu64
      R"(","uid":"%s","controller":true,"blockOwnerDeletion":true}])",
      owner_kind, app, o.id / 4, uid_of(kind::deployment, o).c_str());
  }
  if (k == kind::deployment)
    append(
      out,
      R"(,"annotations":{"deployment.kubernetes.io/revision":"%)" PRIu64
      R"(","kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},\"spec\":{\"replicas\":3}}\n"})",
      o.generation, object_name(k, o).c_str(), namespace_name(o.ns).c_str());
  managed_fields(out, k, o);
  out += '}';
}

void workload::render_pod(std::string& out, const object& o) {
  metadata(out, kind::pod, o, R"(,"pod-template-hash":"7d9f8c6b5")");
  std::uniform_int_distribution<int> ncont(1, 3), nenv(4, 12);
  int containers = ncont(rng_);
  out
    += R"(,"spec":{"volumes":[{"name":"kube-api-access","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}},{"name":"config","configMap":{"name":"app-config","defaultMode":420}}],"containers":[)";
  for (int c = 0; c < containers; ++c) {
    if (c > 0)
      out += ',';
    append(
      out,
      R"({"name":"%s","image":"%s","ports":[{"name":"http","containerPort":%d,"protocol":"TCP"}],"env":[)",
      c == 0     ? "main"
        : c == 1 ? "sidecar"
                 : "metrics",
      images[(o.id + static_cast<uint64_t>(c)) % images.size()], 8080 + c);
    int envs = nenv(rng_);
    for (int e = 0; e < envs; ++e)
      append(out, R"(%s{"name":"APP_SETTING_%d","value":"value-%08x"})",
             e ? "," : "", e, static_cast<unsigned>(rng_()));
    append(
      out,
      R"(],"resources":{"limits":{"cpu":"%dm","memory":"%dMi"},"requests":{"cpu":"%dm","memory":"%dMi"}},"volumeMounts":[{"name":"config","readOnly":true,"mountPath":"/etc/app"},{"name":"kube-api-access","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"livenessProbe":{"httpGet":{"path":"/healthz","port":%d,"scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"})",
      500 * (c + 1), 256 * (c + 1), 100 * (c + 1), 128 * (c + 1), 8080 + c);
  }
  auto ts = timestamp(now_ns_);
  append(
    out,
    R"(],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","nodeName":"node-%u","securityContext":{},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"%s","conditions":[)",
    static_cast<unsigned>(o.id % 7), o.generation > 2 ? "Running" : "Pending");
  const char* conds[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                         "ContainersReady", "PodScheduled"};
  for (int i = 0; i < 5; ++i)
    append(
      out,
      R"(%s{"type":"%s","status":"%s","lastProbeTime":null,"lastTransitionTime":"%s"})",
      i ? "," : "", conds[i], o.generation > 2 || i == 4 ? "True" : "False",
      ts.c_str());
  append(
    out,
    R"(],"hostIP":"172.18.0.%u","hostIPs":[{"ip":"172.18.0.%u"}],"podIP":"10.244.%u.%u","podIPs":[{"ip":"10.244.%u.%u"}],"startTime":"%s","containerStatuses":[)",
    static_cast<unsigned>(o.id % 7 + 2), static_cast<unsigned>(o.id % 7 + 2),
    static_cast<unsigned>(o.id % 250),
    static_cast<unsigned>(o.generation % 250),
    static_cast<unsigned>(o.id % 250),
    static_cast<unsigned>(o.generation % 250), ts.c_str());
  for (int c = 0; c < containers; ++c)
    append(
      out,
      R"(%s{"name":"%s","state":{"running":{"startedAt":"%s"}},"lastState":{},"ready":%s,"restartCount":%u,"image":"%s","imageID":"sha256:%016llx%016llx","containerID":"containerd://%016llx%016llx","started":true})",
      c ? "," : "",
      c == 0     ? "main"
        : c == 1 ? "sidecar"
                 : "metrics",
      ts.c_str(), o.generation > 2 ? "true" : "false",
      static_cast<unsigned>(o.generation / 5),
      images[(o.id + static_cast<uint64_t>(c)) % images.size()],
      static_cast<unsigned long long>(rng_()),
      static_cast<unsigned long long>(rng_()),
      static_cast<unsigned long long>(rng_()),
      static_cast<unsigned long long>(rng_()));
  out += R"(],"qosClass":"Burstable"}})";
}

void workload::render_deployment(std::string& out, const object& o) {
  metadata(out, kind::deployment, o, "");
  auto app = apps[o.id % apps.size()];
  auto ts = timestamp(now_ns_);
  unsigned replicas = static_cast<unsigned>(o.id % 5 + 1);
  append(
    out,
    R"(,"spec":{"replicas":%u,"selector":{"matchLabels":{"app":"%s"}},"template":{"metadata":{"labels":{"app":"%s"}},"spec":{"containers":[{"name":"main","image":"%s","ports":[{"containerPort":8080,"protocol":"TCP"}],"resources":{"requests":{"cpu":"100m","memory":"128Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%%","maxSurge":"25%%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600},"status":{"observedGeneration":%)" PRIu64
    R"(,"replicas":%u,"updatedReplicas":%u,"readyReplicas":%u,"availableReplicas":%u,"conditions":[{"type":"Available","status":"True","lastUpdateTime":"%s","lastTransitionTime":"%s","reason":"MinimumReplicasAvailable","message":"Deployment has minimum availability."},{"type":"Progressing","status":"True","lastUpdateTime":"%s","lastTransitionTime":"%s","reason":"NewReplicaSetAvailable","message":"ReplicaSet \"%s-%)" PRIu64
    R"(\" has successfully progressed."}]}})",
    replicas, app, app, images[o.id % images.size()], o.generation, replicas,
    replicas, replicas, replicas, ts.c_str(), ts.c_str(), ts.c_str(),
    ts.c_str(), app, o.id);
}

void workload::render_replicaset(std::string& out, const object& o) {
  metadata(out, kind::replicaset, o, R"(,"pod-template-hash":"7d9f8c6b5")");
  auto app = apps[o.id % apps.size()];
  unsigned replicas = static_cast<unsigned>(o.id % 5 + 1);
  append(
    out,
    R"(,"spec":{"replicas":%u,"selector":{"matchLabels":{"app":"%s","pod-template-hash":"7d9f8c6b5"}},"template":{"metadata":{"labels":{"app":"%s","pod-template-hash":"7d9f8c6b5"}},"spec":{"containers":[{"name":"main","image":"%s","resources":{"requests":{"cpu":"100m","memory":"128Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},"status":{"replicas":%u,"fullyLabeledReplicas":%u,"readyReplicas":%u,"availableReplicas":%u,"observedGeneration":%)" PRIu64
    R"(}})",
    replicas, app, app, images[o.id % images.size()], replicas, replicas,
    replicas, replicas, o.generation);
}

void workload::render_configmap(std::string& out, const object& o) {
  metadata(out, kind::configmap, o, "");
  out += R"(,"data":{)";
  std::uniform_int_distribution<int> nkeys(2, 8);
  int keys = nkeys(rng_);
  for (int i = 0; i < keys; ++i)
    append(
      out,
      R"(%s"setting-%d.properties":"log.level=info\nfeature.flag.%d=%s\npool.size=%u\ntimeout.ms=%u\n")",
      i ? "," : "", i, i, (rng_() & 1) ? "true" : "false",
      static_cast<unsigned>(rng_() % 64),
      static_cast<unsigned>(rng_() % 30000));
  out += "}}";
}

void workload::render_event(std::string& out, const object& o,
                            generated_event& ev) {
  metadata(out, kind::event, o, "");
  auto [ns, pod] = pick_object(kind::pod, rng_);
  if (pod.empty())
    pod = "unknown";
  ns = namespace_name(o.ns);
  ev.link_resource = "pods";
  ev.link_name = pod;
  auto ts = timestamp(now_ns_);
  auto reason = reasons[rng_() % reasons.size()];
  append(
    out,
    R"(,"involvedObject":{"kind":"Pod","namespace":"%s","name":"%s","uid":"%s","apiVersion":"v1","resourceVersion":"%)" PRIu64
    R"(","fieldPath":"spec.containers{main}"},"reason":"%s","message":"%s container main in pod %s","source":{"component":"kubelet","host":"node-%u"},"firstTimestamp":"%s","lastTimestamp":"%s","count":%)" PRIu64
    R"(,"type":"%s","eventTime":null,"reportingComponent":"kubelet","reportingInstance":"node-%u"})",
    ns.c_str(), pod.c_str(), uid_of(kind::pod, o).c_str(),
    resource_version_ - 1, reason, reason, pod.c_str(),
    static_cast<unsigned>(o.id % 7), ts.c_str(), ts.c_str(), o.generation,
    reason[0] == 'B' ? "Warning" : "Normal", static_cast<unsigned>(o.id % 7));
}

void workload::render(std::string& out, kind k, const object&,
                      const char* type) {
  (void)k;
  append(out, R"({"type":"%s","object":{"kind":"%s","apiVersion":"%s%s%s",)",
         type, info(k).kind, info(k).group, *info(k).group ? "/" : "",
         info(k).version);
}

std::pair<std::string, std::string>
workload::pick_object(kind k, std::mt19937_64& rng) const {
  auto& objs = objects_[static_cast<size_t>(k)];
  if (objs.empty())
    return {};
  auto& o = objs[rng() % objs.size()];
  return {namespace_name(o.ns), object_name(k, o)};
}

generated_event workload::next(std::string& out) {
  now_ns_ += step_ns_;
  ++resource_version_;
  // Choose the kind by share.
  auto roll = static_cast<unsigned>(rng_() % 100);
  size_t ki = 0;
  for (unsigned acc = 0; ki < num_kinds; ++ki) {
    acc += kind_table[ki].share;
    if (roll < acc)
      break;
  }
  auto k = static_cast<kind>(ki);
  auto& objs = objects_[ki];
  // Live objects sit at the back half of `objs` only loosely; pick a random
  // live one by probing (deleted objects are rare).
  auto pick_live = [&]() -> object* {
    for (int tries = 0; tries < 16 && !objs.empty(); ++tries) {
      auto& o = objs[objs.size() - 1
                     - rng_() % std::min(objs.size(), population[ki] * 2)];
      if (o.live)
        return &o;
    }
    return nullptr;
  };
  const char* type = "MODIFIED";
  object* target = nullptr;
  // Until a kind reaches its population every event creates an object.
  auto filling = objs.size() < population[ki];
  auto action = rng_() % 100;
  if (filling || action < (k == kind::event ? 70u : 8u)) {
    objs.push_back(object{static_cast<unsigned>(rng_() % num_namespaces),
                          next_id_[ki]++, 1, true});
    target = &objs.back();
    type = "ADDED";
  } else if (action < (k == kind::event ? 75u : 16u)) {
    target = pick_live();
    if (target) {
      type = "DELETED";
      target->live = false;
    }
  } else {
    target = pick_live();
    if (target)
      ++target->generation;
  }
  if (!target) { // nothing live found: create instead
    objs.push_back(object{static_cast<unsigned>(rng_() % num_namespaces),
                          next_id_[ki]++, 1, true});
    target = &objs.back();
    type = "ADDED";
  }
  generated_event ev;
  ev.k = k;
  ev.ns = namespace_name(target->ns);
  ev.name = object_name(k, *target);
  render(out, k, *target, type);
  switch (k) {
    case kind::pod: render_pod(out, *target); break;
    case kind::deployment: render_deployment(out, *target); break;
    case kind::replicaset: render_replicaset(out, *target); break;
    case kind::configmap: render_configmap(out, *target); break;
    case kind::event: render_event(out, *target, ev); break;
  }
  out += "}\n";
  return ev;
}

} // namespace kws::bench
