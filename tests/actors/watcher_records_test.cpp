// The watcher's pure record building: watch events and relist diffs.
#include "actors/watcher.hpp"
#include "storage/secret_digest.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>

namespace kws {
namespace {

const resource_type pods{"", "v1", "Pod", "pods", true};

std::string pod(const std::string& name, const std::string& uid,
                const std::string& rv) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name
    + R"(","namespace":"ns","uid":")" + uid + R"(","resourceVersion":")" + rv
    + R"(","creationTimestamp":"2026-01-02T03:04:05Z"}})";
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

TEST(watcher_records_test, maps_watch_event_types_to_verbs) {
  std::vector<watch_event> evs{
    {watch_event_type::added, pod("a", "u1", "1"), "1"},
    {watch_event_type::modified, pod("a", "u1", "2"), "2"},
    {watch_event_type::bookmark, R"({"metadata":{"resourceVersion":"3"}})",
     "3"},
    {watch_event_type::deleted, pod("a", "u1", "4"), "4"}};
  size_t malformed = 0;
  auto batch = records_from_events(pods, evs, true, 42, malformed);
  EXPECT_EQ(malformed, 0u);
  EXPECT_EQ(batch.group_resource, "pods");
  EXPECT_EQ(batch.resource_version, "4");
  ASSERT_EQ(batch.events.size(), 3u);
  EXPECT_EQ(batch.events[0].action, verb::create);
  EXPECT_EQ(batch.events[1].action, verb::update);
  EXPECT_EQ(batch.events[2].action, verb::remove);
  EXPECT_EQ(batch.events[2].resource_version, "4");
}

TEST(watcher_records_test, secret_values_are_digested_with_the_given_key) {
  const resource_type secrets{"", "v1", "Secret", "secrets", true};
  const std::string secret
    = R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s",)"
      R"("namespace":"ns","uid":"u","resourceVersion":"1"},)"
      R"("data":{"password":"aHVudGVyMg=="}})";
  size_t malformed = 0;
  auto batch
    = records_from_events(secrets, {{watch_event_type::added, secret, "1"}},
                          true, 42, malformed, "install-key");
  ASSERT_EQ(batch.events.size(), 1u);
  auto doc = parse(batch.events[0].record);
  EXPECT_EQ(std::string{doc["objectChanges"]["data"]["password"].GetString()},
            storage::hmac_sha256_digest("install-key", "aHVudGVyMg=="));
  list_result list;
  list.resource_version = "2";
  list.items.push_back(secret);
  batch = records_from_list(secrets, list, {}, true, 42, malformed, "other");
  ASSERT_EQ(batch.events.size(), 1u);
  doc = parse(batch.events[0].record);
  EXPECT_EQ(std::string{doc["objectChanges"]["data"]["password"].GetString()},
            storage::hmac_sha256_digest("other", "aHVudGVyMg=="));
}

TEST(watcher_records_test, a_bookmark_alone_moves_the_checkpoint) {
  size_t malformed = 0;
  auto batch = records_from_events(
    pods, {{watch_event_type::bookmark, "{}", "99"}}, true, 1, malformed);
  EXPECT_TRUE(batch.events.empty());
  EXPECT_EQ(batch.resource_version, "99");
}

TEST(watcher_records_test, malformed_objects_are_counted_and_skipped) {
  size_t malformed = 0;
  auto batch
    = records_from_events(pods,
                          {{watch_event_type::added, "{not json", "5"},
                           {watch_event_type::added, pod("b", "u2", "6"), "6"}},
                          true, 1, malformed);
  EXPECT_EQ(malformed, 1u);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].name, "b");
  EXPECT_EQ(batch.resource_version, "6");
}

TEST(watcher_records_test, relist_records_creates_updates_and_unseen_deletes) {
  std::vector<live_object> known{{"ns/keep", "u-keep", "10"},
                                 {"ns/change", "u-change", "11"},
                                 {"ns/gone", "u-gone", "12"},
                                 {"ns/replaced", "u-old", "13"}};
  list_result list{{pod("keep", "u-keep", "10"),
                    pod("change", "u-change", "20"), pod("new", "u-new", "21"),
                    pod("replaced", "u-new2", "22")},
                   "30"};
  size_t malformed = 0;
  auto batch = records_from_list(pods, list, known, true,
                                 1'800'000'000'000'000'000, malformed);
  EXPECT_EQ(malformed, 0u);
  EXPECT_EQ(batch.resource_version, "30");
  std::vector<std::string> seen;
  for (auto& ev : batch.events)
    seen.push_back(to_string(ev.action) + " " + ev.name + " " + ev.uid);
  auto pos = [&](const std::string& x) {
    return std::find(seen.begin(), seen.end(), x) - seen.begin();
  };
  auto sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(
    sorted,
    (std::vector<std::string>{"create new u-new", "create replaced u-new2",
                              "delete gone u-gone", "delete replaced u-old",
                              "update change u-change"}));
  // The old life of a replaced name ends before the new one begins.
  EXPECT_LT(pos("delete replaced u-old"), pos("create replaced u-new2"));
  for (auto& ev : batch.events) {
    auto doc = parse(ev.record);
    if (ev.action == verb::remove) {
      EXPECT_TRUE(ev.final_state_unknown);
      ASSERT_TRUE(doc.HasMember("finalStateUnknown")) << ev.record;
      EXPECT_TRUE(doc["finalStateUnknown"].GetBool());
    } else if (ev.action == verb::create) {
      // A create found by a list carries the object's creationTimestamp.
      EXPECT_STREQ(doc["timestamp"].GetString(), "2026-01-02T03:04:05Z");
    }
  }
}

std::string pod_in(const std::string& ns, const std::string& name,
                   const std::string& rv, const std::string& app) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name
    + R"(","namespace":")" + ns + R"(","uid":"u-)" + name
    + R"(","resourceVersion":")" + rv + R"(","labels":{"app":")" + app
    + R"("}}})";
}

TEST(watcher_records_test,
     objects_outside_the_selection_only_move_the_checkpoint) {
  watch_filter f;
  f.namespaces = {"a", "b"};
  f.label_selector = "app=web";
  auto sel = kube::make_selection(pods, f);
  ASSERT_TRUE(sel);
  std::vector<watch_event> evs{
    {watch_event_type::added, pod_in("a", "in", "1", "web"), "1"},
    {watch_event_type::added, pod_in("c", "out", "2", "web"), "2"},
    {watch_event_type::deleted, pod_in("a", "relabeled", "3", "web"), "3"},
    {watch_event_type::deleted, pod_in("b", "gone", "4", "web"), "4"},
    {watch_event_type::modified, pod_in("c", "out", "5", "web"), "5"}};
  retain_selected(*sel, evs);
  // Both DELETED objects are looked up: either may only have left the
  // label selection (the apiserver sends them as they last matched).
  auto candidates = selector_exit_candidates(pods, *sel, evs);
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0].path, "/api/v1/namespaces/a/pods/relabeled");
  EXPECT_EQ(candidates[0].uid, "u-relabeled");
  EXPECT_EQ(candidates[1].path, "/api/v1/namespaces/b/pods/gone");
  // The lookup found `relabeled` (same uid): it was not deleted.
  EXPECT_TRUE(
    is_same_object(pod_in("a", "relabeled", "6", "db"), "u-relabeled"));
  EXPECT_FALSE(is_same_object(pod_in("a", "relabeled", "6", "db"), "u-other"));
  EXPECT_FALSE(is_same_object("{\"kind\":\"Status\",\"code\":404}", "u-gone"));
  drop_selector_exits(evs, {"u-relabeled"});
  size_t malformed = 0;
  auto batch = records_from_events(pods, evs, true, 42, malformed);
  std::vector<std::string> seen;
  for (auto& ev : batch.events)
    seen.push_back(to_string(ev.action) + " " + ev.name);
  EXPECT_EQ(seen, (std::vector<std::string>{"create in", "delete gone"}));
  EXPECT_EQ(batch.resource_version, "5");
}

TEST(watcher_records_test, without_selectors_nothing_is_looked_up) {
  watch_filter f;
  f.namespaces = {"a"};
  auto sel = kube::make_selection(pods, f);
  ASSERT_TRUE(sel);
  std::vector<watch_event> evs{
    {watch_event_type::deleted, pod_in("a", "gone", "4", "web"), "4"}};
  EXPECT_TRUE(selector_exit_candidates(pods, *sel, evs).empty());
}

TEST(watcher_records_test, a_relist_leaves_unselected_namespaces_alone) {
  watch_filter f;
  f.namespaces = {"a", "b"};
  auto sel = kube::make_selection(pods, f);
  ASSERT_TRUE(sel);
  std::vector<live_object> known{{"a/kept", "u-kept", "1"},
                                 {"c/elsewhere", "u-elsewhere", "2"}};
  list_result list{
    {pod_in("a", "kept", "1", "web"), pod_in("c", "new-elsewhere", "3", "web")},
    "9"};
  retain_selected(*sel, list, known);
  size_t malformed = 0;
  auto batch = records_from_list(pods, list, known, true, 42, malformed);
  // Nothing in c: neither the new object nor a delete of the known one.
  EXPECT_TRUE(batch.events.empty());
  EXPECT_EQ(batch.resource_version, "9");
}

TEST(watcher_records_test, drop_marks_only_updates) {
  std::vector<watch_event> evs{
    {watch_event_type::added, pod("a", "u1", "1"), "1"},
    {watch_event_type::modified, pod("a", "u1", "2"), "2"},
    {watch_event_type::deleted, pod("a", "u1", "3"), "3"}};
  size_t malformed = 0;
  auto batch = records_from_events(pods, evs, true, 42, malformed);
  watch_filter keep;
  mark_status_drops(keep, batch);
  for (auto& ev : batch.events)
    EXPECT_FALSE(ev.drop_if_status_only);
  watch_filter drop;
  drop.status = status_updates::drop;
  mark_status_drops(drop, batch);
  ASSERT_EQ(batch.events.size(), 3u);
  EXPECT_FALSE(batch.events[0].drop_if_status_only);
  EXPECT_TRUE(batch.events[1].drop_if_status_only);
  EXPECT_FALSE(batch.events[2].drop_if_status_only);
}

} // namespace
} // namespace kws
