// Change intelligence against the real control plane, over windows: the
// change summary, the changeClass/path filters of /events, a Pod stuck
// pulling its image, and coverage (no gap in a quiet window, "not yet
// watched" before the first list, a "server down" gap after a restart).
// The story is shared with changes_e2e_test.cpp (changes_fixture.hpp).
#include "tests/e2e/changes_fixture.hpp"

namespace kws::test::changes_e2e {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

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
    EXPECT_EQ(quiet,
              (json{{"gaps", json::array()}, {"filtered", json::array()}}));
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
  EXPECT_EQ(all, (json{{"gaps", json::array()}, {"filtered", json::array()}}));
  auto err = get_json("/api/v1/coverage?start=later", 400);
  EXPECT_EQ(str(err, "parameter"), "start") << err;

  // Deployments are watched (the story's records came from that watch).
  ASSERT_TRUE(
    eventually([] { return !history("deployments", "web").empty(); }, patience))
    << "deployments are not recorded";
  auto stopped = now_ns();
  ASSERT_EQ(server->terminate(30s), 0) << "log in " << (dir / "server.log");
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
} // namespace kws::test::changes_e2e
