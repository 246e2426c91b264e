// k8s-watch-server's change intelligence against the real control plane: a
// Deployment applied, scaled and given a new image with kubectl, rolled out by
// the real kube-controller-manager, must come back with changed paths, change
// classes, field managers and messages per record; diffs must be patches that
// nlohmann's independent JSON Patch applies exactly; blame and snapshots name
// the right versions. The windows are in changes_e2e_window_test.cpp.
//
// With KWS_API_EXAMPLES_DIR set, one real answer of each endpoint is saved
// there, pretty printed, for docs/api.md.
#include "tests/e2e/changes_fixture.hpp"

namespace kws::test::changes_e2e {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

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

} // namespace
} // namespace kws::test::changes_e2e
