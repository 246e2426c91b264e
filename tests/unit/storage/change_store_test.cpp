// Change intelligence through the store: what ingest adds to each record
// (changed paths, class, managers, message), the filters on it, and the
// answers built from stored versions (record by id, diff, blame, snapshot,
// changes). Patches are checked with nlohmann's independent JSON Patch.
#include "storage/live_state.hpp"
#include "storage/record_builder.hpp"
#include "storage/rocks_store.hpp"
#include "store_fixture.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;
using json = nlohmann::json;

namespace {

// 2026-11-26T00:00:00Z
constexpr int64_t day0 = 1'795'651'200'000'000'000;
constexpr int64_t sec = 1'000'000'000;

json managed(const std::string& manager, const std::string& time, json fields,
             const std::string& subresource = "") {
  json entry = {{"manager", manager},       {"operation", "Update"},
                {"apiVersion", "apps/v1"},  {"time", time},
                {"fieldsType", "FieldsV1"}, {"fieldsV1", std::move(fields)}};
  if (!subresource.empty())
    entry["subresource"] = subresource;
  return entry;
}

/// A Deployment `web` at resourceVersion `rv`.
json deployment(const std::string& rv, int replicas, const std::string& image,
                json managed_fields, int status_replicas = 0) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata",
             {{"name", "web"},
              {"namespace", "shop"},
              {"uid", "uid-web"},
              {"resourceVersion", rv},
              {"generation", replicas + (image == "web:2" ? 10 : 0)},
              {"creationTimestamp", "2026-11-26T00:00:00Z"},
              {"labels", {{"app", "web"}}},
              {"managedFields", std::move(managed_fields)}}},
            {"spec",
             {{"replicas", replicas},
              {"selector", {{"matchLabels", {{"app", "web"}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", "web"}}}}},
                {"spec",
                 {{"containers",
                   json::array({{{"name", "web"}, {"image", image}}})}}}}}}}};
  if (status_replicas > 0)
    d["status"] = {{"replicas", status_replicas}, {"observedGeneration", 3}};
  return d;
}

const json apply_fields
  = {{"f:metadata",
      {{"f:labels", {{".", json::object()}, {"f:app", json::object()}}}}},
     {"f:spec",
      {{"f:replicas", json::object()},
       {"f:selector", json::object()},
       {"f:template",
        {{"f:metadata",
          {{"f:labels", {{".", json::object()}, {"f:app", json::object()}}}}},
         {"f:spec",
          {{"f:containers",
            {{"k:{\"name\":\"web\"}",
              {{".", json::object()},
               {"f:image", json::object()},
               {"f:name", json::object()}}}}}}}}}}}};

const json scale_fields = {{"f:spec", {{"f:replicas", json::object()}}}};

const json edit_fields
  = {{"f:spec",
      {{"f:template",
        {{"f:spec",
          {{"f:containers",
            {{"k:{\"name\":\"web\"}", {{"f:image", json::object()}}}}}}}}}}}};

const json status_fields = {
  {"f:status",
   {{"f:replicas", json::object()}, {"f:observedGeneration", json::object()}}}};

class change_store_test : public test::store_fixture {
protected:
  change_store_test() : store_fixture(day0 + 3600 * sec) {}

  /// Stores one version of `object` as the watch would, at `ts`; its id.
  std::string put(const resource_type& rt, verb v, const json& object,
                  int64_t ts) {
    record_options opts;
    opts.copy_object_text = true;
    auto ev = build_record(rt, v, object.dump(), ts, opts);
    EXPECT_TRUE(ev) << render(ev.error());
    if (!ev)
      return {};
    auto res = store_->write({*ev});
    EXPECT_TRUE(res) << render(res.error());
    if (!res || res->ids.empty())
      return {};
    return res->ids.front();
  }

  json record(const std::string& id) {
    auto r = store_->record(record_query{id});
    EXPECT_TRUE(r) << render(r.error());
    return r ? json::parse(r->body) : json{};
  }

  /// Creates web and changes it three times: scale, image, status.
  void write_history() {
    auto t0 = "2026-11-26T00:00:00Z";
    ids_.push_back(put(
      deployments(), verb::create,
      deployment(
        "1", 2, "web:1",
        json::array({managed("kubectl-client-side-apply", t0, apply_fields)})),
      day0 + 10 * sec));
    auto with_scale = json::array(
      {managed("kubectl-client-side-apply", t0, apply_fields),
       managed("kubectl", "2026-11-26T00:00:20Z", scale_fields, "scale")});
    ids_.push_back(put(deployments(), verb::update,
                       deployment("2", 3, "web:1", with_scale),
                       day0 + 20 * sec));
    auto with_edit = with_scale;
    with_edit.push_back(
      managed("kubectl-edit", "2026-11-26T00:00:30Z", edit_fields));
    ids_.push_back(put(deployments(), verb::update,
                       deployment("3", 3, "web:2", with_edit),
                       day0 + 30 * sec));
    auto with_status = with_edit;
    with_status.push_back(managed("kube-controller-manager",
                                  "2026-11-26T00:00:40Z", status_fields,
                                  "status"));
    ids_.push_back(put(deployments(), verb::update,
                       deployment("4", 3, "web:2", with_status, 3),
                       day0 + 40 * sec));
  }

  std::vector<std::string> ids_;
};

std::vector<std::string> strings(const json& x) {
  std::vector<std::string> out;
  for (const auto& s : x)
    out.push_back(s.get<std::string>());
  return out;
}

const object_ref web{"shop", "deployments", "", "web"};

} // namespace

TEST_F(change_store_test, updates_record_what_changed_who_changed_it_and_why) {
  write_history();
  auto create = record(ids_[0]);
  EXPECT_EQ(create["changeClass"], "spec");
  EXPECT_FALSE(create.contains("changedPaths"));
  EXPECT_EQ(create["message"], "Create deployments web");

  auto scale = record(ids_[1]);
  EXPECT_EQ(scale["changeClass"], "spec");
  EXPECT_EQ(
    strings(scale["changedPaths"]),
    (std::vector<std::string>{"/metadata/generation",
                              "/metadata/resourceVersion", "/spec/replicas"}));
  EXPECT_EQ(strings(scale["managers"]), std::vector<std::string>{"kubectl"});
  EXPECT_EQ(scale["fieldManagers"]["/spec/replicas"], "kubectl");
  EXPECT_EQ(scale["message"].get<std::string>().rfind(
              "Update deployments web: /spec/replicas 2→3", 0),
            0u)
    << scale["message"];
  // The snapshot still leaves managedFields out.
  EXPECT_FALSE(scale["objectChanges"]["metadata"].contains("managedFields"));

  auto image = record(ids_[2]);
  EXPECT_EQ(image["changeClass"], "spec");
  EXPECT_EQ(strings(image["managers"]),
            std::vector<std::string>{"kubectl-edit"});
  EXPECT_EQ(image["fieldManagers"]["/spec/template/spec/containers/0/image"],
            "kubectl-edit");
  EXPECT_NE(image["message"].get<std::string>().find(
              "/spec/template/spec/containers/0/image web:1→web:2"),
            std::string::npos)
    << image["message"];

  auto status = record(ids_[3]);
  EXPECT_EQ(status["changeClass"], "status");
  EXPECT_EQ(strings(status["managers"]),
            std::vector<std::string>{"kube-controller-manager"});
  EXPECT_EQ(status["fieldManagers"]["/status/replicas"],
            "kube-controller-manager");
}

TEST_F(change_store_test, a_resync_of_the_same_object_is_class_none) {
  write_history();
  auto last = deployment("5", 3, "web:2", json::array(), 3);
  auto id = put(deployments(), verb::update, last, day0 + 50 * sec);
  auto r = record(id);
  EXPECT_EQ(r["changeClass"], "none");
  EXPECT_EQ(strings(r["changedPaths"]),
            std::vector<std::string>{"/metadata/resourceVersion"});
}

TEST_F(change_store_test, events_filter_by_change_class_and_path) {
  write_history();
  event_query q;
  q.change_classes = 1u << static_cast<uint8_t>(change_class::status);
  auto page = store_->query(q);
  ASSERT_TRUE(page) << render(page.error());
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(json::parse(page->records[0])["id"], ids_[3]);

  event_query by_path;
  by_path.path = "/spec/template/spec/containers";
  by_path.limit = 10;
  page = store_->query(by_path);
  ASSERT_TRUE(page) << render(page.error());
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(json::parse(page->records[0])["id"], ids_[2]);

  // The same path filter through another index, paged one by one.
  by_path.path = "/spec";
  by_path.ns = "shop";
  by_path.limit = 1;
  page = store_->query(by_path);
  ASSERT_TRUE(page) << render(page.error());
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(json::parse(page->records[0])["id"], ids_[1]);
  ASSERT_TRUE(page->has_more);
  by_path.continue_token = page->continue_token;
  page = store_->query(by_path);
  ASSERT_TRUE(page) << render(page.error());
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(json::parse(page->records[0])["id"], ids_[2]);
}

TEST_F(change_store_test, a_record_is_found_by_id_until_unknown) {
  write_history();
  EXPECT_EQ(record(ids_[2])["resourceVersion"], "3");
  auto missing = store_->record(record_query{"00000000000000ff"});
  EXPECT_FALSE(missing);
}

TEST_F(change_store_test, diff_applies_exactly_with_an_independent_library) {
  write_history();
  for (auto [from, to] :
       {std::pair{0, 1}, std::pair{0, 3}, std::pair{1, 2}, std::pair{3, 0}}) {
    diff_query q{web, ids_[from], ids_[to], {}};
    auto d = store_->diff(q);
    ASSERT_TRUE(d) << render(d.error());
    auto body = json::parse(d->body);
    auto a = record(ids_[from])["objectChanges"];
    auto b = record(ids_[to])["objectChanges"];
    EXPECT_EQ(a.patch(body["patch"]), b) << body.dump(2);
    EXPECT_EQ(body["from"]["id"], ids_[from]);
    EXPECT_EQ(body["to"]["id"], ids_[to]);
  }
  // Default: the last two versions; ops carry their manager.
  auto d = store_->diff(diff_query{web, "", "", {}});
  ASSERT_TRUE(d) << render(d.error());
  auto body = json::parse(d->body);
  EXPECT_EQ(body["from"]["id"], ids_[2]);
  EXPECT_EQ(body["to"]["id"], ids_[3]);
  bool saw_status = false;
  for (const auto& op : body["patch"])
    if (op["path"] == "/status") {
      saw_status = true;
      EXPECT_EQ(op["manager"], "kube-controller-manager");
    }
  EXPECT_TRUE(saw_status) << body.dump(2);
  // `to` alone means "and its predecessor"; ignore drops ops.
  d = store_->diff(diff_query{web, "", ids_[2], {"/metadata"}});
  ASSERT_TRUE(d) << render(d.error());
  body = json::parse(d->body);
  EXPECT_EQ(body["from"]["id"], ids_[1]);
  ASSERT_EQ(body["patch"].size(), 1u) << body.dump(2);
  EXPECT_EQ(body["patch"][0]["path"], "/spec/template/spec/containers/0/image");
  EXPECT_EQ(body["patch"][0]["manager"], "kubectl-edit");
  // An id of another object is a 400 naming the parameter.
  auto other = store_->diff(diff_query{web, "0000000000000999", "", {}});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error(), ec::invalid_argument);
}

TEST_F(change_store_test, blame_names_who_last_changed_each_field) {
  write_history();
  auto fields_at = [&](int64_t at) {
    auto b = store_->blame(blame_query{web, at});
    EXPECT_TRUE(b) << render(b.error());
    std::map<std::string, json> out;
    if (!b)
      return out;
    auto body = json::parse(b->body);
    for (const auto& f : body["fields"])
      out[f["path"].get<std::string>()] = f;
    return out;
  };
  auto now = fields_at(max_time_ns);
  EXPECT_EQ(now["/spec/replicas"]["manager"], "kubectl");
  EXPECT_EQ(now["/spec/replicas"]["id"], ids_[1]);
  EXPECT_EQ(now["/status/replicas"]["manager"], "kube-controller-manager");
  EXPECT_EQ(now["/spec/template/spec/containers/0/image"]["manager"],
            "kubectl-edit");
  EXPECT_EQ(now["/spec/selector/matchLabels/app"]["manager"],
            "kubectl-client-side-apply");
  EXPECT_EQ(now["/spec/selector/matchLabels/app"]["id"], ids_[0]);
  // At 25 s the scale had happened, the image change not yet.
  auto earlier = fields_at(day0 + 25 * sec);
  EXPECT_EQ(earlier["/spec/template/spec/containers/0/image"]["id"], ids_[0]);
  EXPECT_EQ(earlier.count("/status/replicas"), 0u);
  auto before = store_->blame(blame_query{web, day0});
  EXPECT_FALSE(before);
}

TEST_F(change_store_test, a_snapshot_holds_what_existed_then) {
  write_history();
  json other = deployment("7", 1, "api:1", json::array());
  other["metadata"]["name"] = "api";
  other["metadata"]["uid"] = "uid-api";
  put(deployments(), verb::create, other, day0 + 35 * sec);
  put(deployments(), verb::remove, other, day0 + 45 * sec);
  auto at = [&](int64_t t) {
    snapshot_query q;
    q.window.end_ns = t;
    q.window.ns = "shop";
    auto s = store_->snapshot(q);
    EXPECT_TRUE(s) << render(s.error());
    return s ? json::parse(s->body) : json{};
  };
  auto s = at(day0 + 25 * sec);
  ASSERT_EQ(s.size(), 1u) << s.dump();
  EXPECT_EQ(s[0]["id"], ids_[1]);
  s = at(day0 + 36 * sec);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0]["resourceName"], "api");
  EXPECT_EQ(s[1]["id"], ids_[2]);
  s = at(day0 + 46 * sec);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["id"], ids_[3]);
  // Paged one object at a time.
  snapshot_query q;
  q.window.end_ns = day0 + 36 * sec;
  q.window.limit = 1;
  auto first = store_->snapshot(q);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->has_more);
  q.window.continue_token = first->continue_token;
  auto second = store_->snapshot(q);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->has_more);
  EXPECT_EQ(json::parse(second->body)[0]["resourceName"], "web");
}

TEST_F(change_store_test, changes_sum_up_each_object_with_its_net_patch) {
  write_history();
  // A Warning about web in the window.
  json warning = {{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata",
                   {{"name", "web.1"},
                    {"namespace", "shop"},
                    {"uid", "uid-ev"},
                    {"resourceVersion", "9"}}},
                  {"type", "Warning"},
                  {"reason", "FailedCreate"},
                  {"message", "quota"},
                  {"involvedObject",
                   {{"kind", "Deployment"},
                    {"namespace", "shop"},
                    {"name", "web"},
                    {"apiVersion", "apps/v1"}}}};
  record_options opts;
  opts.copy_object_text = true;
  auto ev = build_record(core_events(), verb::create, warning.dump(),
                         day0 + 32 * sec, opts);
  ASSERT_TRUE(ev);
  ev->timestamp_ns = day0 + 32 * sec;
  ev->link_ns = "shop";
  ev->link_resource = "deployments";
  ev->link_name = "web";
  ASSERT_TRUE(store_->write({*ev}));
  changes_query q;
  q.window.start_ns = day0 + 15 * sec;
  q.window.end_ns = day0 + 35 * sec;
  auto c = store_->changes(q);
  ASSERT_TRUE(c) << render(c.error());
  auto body = json::parse(c->body);
  ASSERT_EQ(body.size(), 1u) << body.dump(2);
  auto entry = body[0];
  EXPECT_EQ(entry["resourceName"], "web");
  EXPECT_EQ(entry["verbs"]["update"], 2);
  EXPECT_EQ(entry["verbs"]["create"], 0);
  EXPECT_EQ(entry["first"], ids_[1]);
  EXPECT_EQ(entry["last"], ids_[2]);
  EXPECT_EQ(entry["events"]["Warning"], 1);
  EXPECT_EQ(entry["events"]["reasons"]["FailedCreate"], 1);
  auto before = record(ids_[0])["objectChanges"];
  auto after = record(ids_[2])["objectChanges"];
  EXPECT_EQ(before.patch(entry["patch"]), after) << entry.dump(2);
  // Only status changes: web's status change lies outside this window.
  q.window.change_classes = 1u << static_cast<uint8_t>(change_class::status);
  c = store_->changes(q);
  ASSERT_TRUE(c);
  EXPECT_EQ(json::parse(c->body).size(), 0u);
}

TEST(live_state_test, reads_both_layouts) {
  live_state x;
  x.uid = "u";
  x.resource_version = "12";
  x.located = true;
  x.day = 20'000;
  x.pos = position{-5, 7};
  auto back = decode_live(encode_live(x));
  EXPECT_TRUE(back.located);
  EXPECT_EQ(back.uid, "u");
  EXPECT_EQ(back.resource_version, "12");
  EXPECT_EQ(back.day, 20'000);
  EXPECT_EQ(back.pos, x.pos);
  auto old = decode_live(std::string{"u\0"
                                     "12",
                                     4});
  EXPECT_FALSE(old.located);
  EXPECT_EQ(old.resource_version, "12");
}

TEST_F(change_store_test, the_time_the_server_was_down_is_a_coverage_gap) {
  // A fresh store knows of no downtime.
  auto none = store_->record_downtime(day0 + 3000 * sec);
  ASSERT_TRUE(none) << render(none.error());
  EXPECT_TRUE(none->empty());
  auto changes = store_->coverage_changes();
  // The write notes the server alive at the store's clock (1 h).
  ASSERT_TRUE(store_->write({}, {{"deployments.apps", "5"}}));
  EXPECT_GT(store_->coverage_changes(), changes) << "a first watch";
  changes = store_->coverage_changes();
  ASSERT_TRUE(store_->write({}, {{"deployments.apps", "6"}}));
  EXPECT_EQ(store_->coverage_changes(), changes) << "a checkpoint only";
  auto gaps = store_->record_downtime(day0 + 3700 * sec);
  ASSERT_TRUE(gaps) << render(gaps.error());
  ASSERT_EQ(gaps->size(), 1u);
  EXPECT_EQ((*gaps)[0].group_resource, "deployments.apps");
  EXPECT_EQ((*gaps)[0].start_ns, day0 + 3600 * sec);
  EXPECT_EQ((*gaps)[0].end_ns, day0 + 3700 * sec);
  EXPECT_EQ((*gaps)[0].reason, "server down");
  EXPECT_EQ((*gaps)[0].from_resource_version, "6");
  EXPECT_GT(store_->coverage_changes(), changes) << "a downtime";
  auto stored
    = store_->coverage(coverage_query{day0 + 3650 * sec, day0 + 3660 * sec});
  ASSERT_TRUE(stored) << render(stored.error());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].reason, "server down");
  // The next start counts from the last one, not from the write.
  ASSERT_FALSE(store_->mark_alive(day0 + 3800 * sec));
  gaps = store_->record_downtime(day0 + 3900 * sec);
  ASSERT_TRUE(gaps);
  ASSERT_EQ(gaps->size(), 1u);
  EXPECT_EQ((*gaps)[0].start_ns, day0 + 3800 * sec);
  // A window after the downtimes has no gap.
  auto later
    = store_->coverage(coverage_query{day0 + 3950 * sec, day0 + 4000 * sec});
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->empty());
}

TEST_F(change_store_test, the_time_before_a_type_was_first_watched_is_a_gap) {
  ASSERT_TRUE(store_->write({}, {{"deployments.apps", "5"}}));
  ASSERT_TRUE(store_->write({}, {{"deployments.apps", "6"}}));
  auto before = store_->coverage(coverage_query{day0, day0 + 7200 * sec});
  ASSERT_TRUE(before) << render(before.error());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].reason, "not yet watched");
  EXPECT_EQ((*before)[0].start_ns, day0);
  // The first checkpoint's time, not the second's.
  EXPECT_EQ((*before)[0].end_ns, day0 + 3600 * sec);
  auto after
    = store_->coverage(coverage_query{day0 + 3600 * sec, day0 + 7200 * sec});
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
  // Without a start the whole past is asked, not a window.
  auto all = store_->coverage(coverage_query{});
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
}

TEST_F(change_store_test,
       status_only_updates_of_a_type_that_drops_them_are_not_stored) {
  record_options opts;
  opts.copy_object_text = true;
  auto fields = json::array({managed("kubectl-client-side-apply",
                                     "2026-11-26T00:00:00Z", apply_fields)});
  auto version = [&](verb v, const std::string& rv, int replicas,
                     int status_replicas, int64_t ts) {
    auto ev = build_record(
      deployments(), v,
      deployment(rv, replicas, "web:1", fields, status_replicas).dump(), ts,
      opts);
    EXPECT_TRUE(ev) << render(ev.error());
    ev->drop_if_status_only = v == verb::update;
    return *ev;
  };
  ASSERT_TRUE(store_->write({version(verb::create, "1", 2, 0, day0 + sec)}));
  // A heartbeat that changed only status: not stored, counted by type.
  auto heartbeat
    = store_->write({version(verb::update, "2", 2, 2, day0 + 2 * sec)});
  ASSERT_TRUE(heartbeat) << render(heartbeat.error());
  EXPECT_EQ(heartbeat->written, 0u);
  EXPECT_EQ(heartbeat->status_dropped["deployments.apps"], 1u);
  // Its resourceVersion is the object's now: a repeat is a duplicate.
  auto repeat
    = store_->write({version(verb::update, "2", 2, 2, day0 + 3 * sec)});
  ASSERT_TRUE(repeat);
  EXPECT_EQ(repeat->dropped, 1u);
  EXPECT_TRUE(repeat->status_dropped.empty());
  // In one batch: a heartbeat is dropped, the scale after it is stored. Its
  // diff is against the version received before it.
  auto batch
    = store_->write({version(verb::update, "3", 2, 3, day0 + 4 * sec),
                     version(verb::update, "4", 3, 3, day0 + 5 * sec)});
  ASSERT_TRUE(batch) << render(batch.error());
  EXPECT_EQ(batch->written, 1u);
  EXPECT_EQ(batch->status_dropped["deployments.apps"], 1u);
  auto scale = record(batch->ids.at(0));
  EXPECT_EQ(scale["changeClass"], "spec");
  EXPECT_EQ(
    strings(scale["changedPaths"]),
    (std::vector<std::string>{"/metadata/generation",
                              "/metadata/resourceVersion", "/spec/replicas"}));
  // Across batches the next stored update is diffed against the last
  // stored version: what the dropped heartbeat changed is in it.
  ASSERT_TRUE(
    store_->write({version(verb::update, "5", 3, 4, day0 + 6 * sec)}));
  auto later
    = store_->write({version(verb::update, "6", 4, 4, day0 + 7 * sec)});
  ASSERT_TRUE(later);
  ASSERT_EQ(later->written, 1u);
  auto grown = record(later->ids.at(0));
  EXPECT_EQ(grown["changeClass"], "spec");
  auto paths = strings(grown["changedPaths"]);
  for (const char* path : {"/spec/replicas", "/status/replicas"})
    EXPECT_NE(std::find(paths.begin(), paths.end(), path), paths.end()) << path;
  // Deletes and creates are kept whatever their class.
  auto gone = version(verb::remove, "7", 4, 4, day0 + 8 * sec);
  auto removed = store_->write({gone});
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->written, 1u);
}
