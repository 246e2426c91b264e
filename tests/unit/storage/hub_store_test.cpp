// A hub's store of one cluster, filled from that cluster's exported
// messages as Kafka delivers them (each object's records in order within
// its partition, partitions interleaved, everything delivered twice), holds
// what the cluster's own store holds: the same records under the same ids
// (with `cluster` after the id), and the same answers to /changes, history,
// diffs and blame, a day later too. What is not a record, or not of a
// served cluster, is passed over.
#include "storage/coverage_message.hpp"
#include "storage/export_message.hpp"
#include "storage/hub_batch.hpp"
#include "storage/hub_record.hpp"
#include "storage/record_builder.hpp"
#include "storage/rocks_store.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>

namespace kws::storage {
namespace {

constexpr int64_t sec = 1'000'000'000;
constexpr int64_t day = int64_t{86'400} * sec;
constexpr int64_t day0 = int64_t{20'000} * day;

std::string configmap(const std::string& name, int rv, const std::string& value,
                      const std::string& manager) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name
    + R"(","namespace":"shop","uid":"uid-)" + name + R"(","resourceVersion":")"
    + std::to_string(rv) + R"(","managedFields":[{"manager":")" + manager
    + R"(","operation":"Update","apiVersion":"v1","time":"2024-10-04T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:k":{}}}}]},"data":{"k":")"
    + value + R"("}})";
}

std::string deployment(int rv, int replicas, int ready) {
  return R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","uid":"uid-web","resourceVersion":")"
    + std::to_string(rv) + R"(","generation":)" + std::to_string(replicas)
    + R"(},"spec":{"replicas":)" + std::to_string(replicas)
    + R"(},"status":{"readyReplicas":)" + std::to_string(ready) + "}}";
}

std::string namespace_object(int rv) {
  return R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop","uid":"uid-ns","resourceVersion":")"
    + std::to_string(rv) + R"("}})";
}

std::string event_object(const std::string& name, int rv, bool warning) {
  return R"({"apiVersion":"v1","kind":"Event","metadata":{"name":")" + name
    + R"(","namespace":"shop","uid":"uid-)" + name + R"(","resourceVersion":")"
    + std::to_string(rv)
    + R"("},"involvedObject":{"kind":"Deployment","namespace":"shop","name":"web","uid":"uid-web","apiVersion":"apps/v1"},"reason":"Scaled","message":"scaled","type":")"
    + (warning ? "Warning" : "Normal") + R"(","count":1})";
}

store_options options_at(const std::filesystem::path& dir, int64_t now) {
  store_options opts;
  opts.path = dir.string();
  opts.sync = false;
  opts.clock = [now] { return now; };
  return opts;
}

/// The store's records minus the hub's `"cluster":"c1",`.
std::string without_cluster(std::string s) {
  const std::string field = R"("cluster":"c1",)";
  for (auto at = s.find(field); at != std::string::npos; at = s.find(field))
    s.erase(at, field.size());
  return s;
}

class hub_store_test : public testing::Test {
protected:
  void SetUp() override {
    dir_ = test::test_dir();
    std::filesystem::remove_all(dir_);
    auto src
      = rocks_store::open(options_at(dir_ / "source", day0 + 3600 * sec));
    ASSERT_TRUE(src) << render(src.error());
    source_.emplace(std::move(*src));
    write_source();
  }

  void TearDown() override {
    source_.reset();
    hub_.reset();
    std::filesystem::remove_all(dir_);
  }

  void add(const resource_type& rt, verb v, const std::string& json) {
    ++t_;
    auto ev = build_record(rt, v, json, day0 + t_ * sec);
    ASSERT_TRUE(ev) << render(ev.error());
    if (rt.plural == "events") {
      ev->link_ns = "shop";
      ev->link_resource = "deployments";
      ev->link_name = "web";
    }
    pending_.push_back(std::move(*ev));
  }

  void flush() {
    auto res = source_->write(pending_);
    ASSERT_TRUE(res) << render(res.error());
    pending_.clear();
  }

  void write_source() {
    const resource_type cms{"", "v1", "ConfigMap", "configmaps", true};
    const resource_type deps{"apps", "v1", "Deployment", "deployments", true};
    const resource_type nss{"", "v1", "Namespace", "namespaces", false};
    const resource_type evs{"", "v1", "Event", "events", true};
    add(nss, verb::create, namespace_object(1));
    add(cms, verb::create, configmap("a", 2, "1", "kubectl"));
    add(cms, verb::create, configmap("b", 3, "1", "kubectl"));
    add(deps, verb::create, deployment(4, 1, 0));
    flush();
    add(cms, verb::update, configmap("a", 5, "2", "helm"));
    add(deps, verb::update, deployment(6, 1, 1));
    add(deps, verb::update, deployment(7, 3, 1));
    add(evs, verb::create, event_object("web.1", 8, false));
    add(evs, verb::create, event_object("web.2", 9, true));
    flush();
    add(cms, verb::update, configmap("a", 10, "3", "argo"));
    add(cms, verb::remove, configmap("b", 11, "1", "kubectl"));
    add(nss, verb::update, namespace_object(12));
    add(deps, verb::update, deployment(13, 3, 3));
    flush();
  }

  /// The source's records as Kafka would deliver them from a topic of three
  /// partitions: each key's messages in order, partitions taking turns.
  std::vector<kafka_received> delivered() {
    auto records = source_->records_after(0, 1000);
    EXPECT_TRUE(records) << render(records.error());
    std::vector<std::deque<kafka_received>> partitions(3);
    std::vector<int64_t> offsets(3, 0);
    for (const auto& r : *records) {
      auto m = export_message(r, "c1");
      EXPECT_TRUE(m);
      auto p = static_cast<int32_t>(std::hash<std::string>{}(m->key) % 3);
      partitions[p].push_back({p, offsets[p]++, m->key, m->value, m->link});
    }
    std::vector<kafka_received> out;
    for (bool more = true; more;) {
      more = false;
      for (auto& q : partitions)
        if (!q.empty()) {
          out.push_back(std::move(q.front()));
          q.pop_front();
          more = true;
        }
    }
    return out;
  }

  /// Feeds `msgs` to the hub store `per_poll` at a time, as the HUB INGEST
  /// does; returns how many were passed over as repeats.
  size_t feed(const std::vector<kafka_received>& msgs, size_t per_poll) {
    size_t repeated = 0;
    for (size_t i = 0; i < msgs.size(); i += per_poll) {
      std::vector<kafka_received> poll(
        msgs.begin() + static_cast<long>(i),
        msgs.begin() + static_cast<long>(std::min(msgs.size(), i + per_poll)));
      auto batch = plan_hub_batch(poll, held_);
      EXPECT_TRUE(batch.unreadable.empty());
      repeated += batch.repeated;
      for (auto& [cluster, b] : batch.clusters) {
        cursor_map cursors;
        for (auto [p, mark] : b.marks)
          cursors[hub_cursor_name("t", p)] = mark;
        auto res = hub_->write(b.events, b.checkpoints, {}, cursors);
        EXPECT_TRUE(res) << render(res.error());
        for (auto [p, mark] : b.marks)
          held_[cluster][p] = mark;
      }
    }
    return repeated;
  }

  void open_hub(int64_t now) {
    auto h = rocks_store::open(options_at(dir_ / "hub", now));
    ASSERT_TRUE(h) << render(h.error());
    hub_.emplace(std::move(*h));
    held_ = {{"c1", {}}};
  }

  void expect_same_answers(int64_t start, int64_t end) {
    auto a = source_->records_after(0, 1000);
    auto b = hub_->records_after(0, 1000);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(a->size(), b->size());
    for (size_t i = 0; i < a->size(); ++i) {
      EXPECT_EQ((*a)[i].seq, (*b)[i].seq);
      EXPECT_EQ(export_message((*a)[i], "c1")->value, (*b)[i].json);
    }
    for (const std::string ns : {"", "shop"}) {
      changes_query q;
      q.window.start_ns = start;
      q.window.end_ns = end;
      q.window.ns = ns;
      auto x = source_->changes(q);
      auto y = hub_->changes(q);
      ASSERT_TRUE(x && y);
      EXPECT_EQ(x->body, y->body) << "namespace '" << ns << "'";
      q.window.resource = "events";
      x = source_->changes(q);
      y = hub_->changes(q);
      ASSERT_TRUE(x && y);
      EXPECT_EQ(x->body, y->body) << "Events of namespace '" << ns << "'";
    }
    history_query h{"shop", "deployments", "apps", "web", start, end};
    auto x = source_->history(h);
    auto y = hub_->history(h);
    ASSERT_TRUE(x && y);
    EXPECT_FALSE(x->watch_events.empty());
    ASSERT_EQ(x->watch_events.size(), y->watch_events.size());
    for (size_t i = 0; i < x->watch_events.size(); ++i)
      EXPECT_EQ(x->watch_events[i], without_cluster(y->watch_events[i]));
    ASSERT_EQ(x->related_events.size(), y->related_events.size());
    for (size_t i = 0; i < x->related_events.size(); ++i)
      EXPECT_EQ(x->related_events[i], without_cluster(y->related_events[i]));
    object_ref a_ref{"shop", "configmaps", "", "a"};
    auto dx = source_->diff(diff_query{a_ref, "", "", {}});
    auto dy = hub_->diff(diff_query{a_ref, "", "", {}});
    ASSERT_TRUE(dx && dy);
    EXPECT_TRUE(dx->found);
    EXPECT_EQ(dx->body, without_cluster(dy->body));
    auto bx = source_->blame(blame_query{a_ref});
    auto by = hub_->blame(blame_query{a_ref});
    ASSERT_TRUE(bx && by);
    EXPECT_NE(bx->body.find(R"("path":"/data/k","id":"000000000000000a")"),
              std::string::npos)
      << bx->body;
    EXPECT_NE(bx->body.find("argo"), std::string::npos) << bx->body;
    EXPECT_EQ(bx->body, without_cluster(by->body));
    auto report = hub_->verify();
    ASSERT_TRUE(report) << render(report.error());
    EXPECT_TRUE(report->problems.empty())
      << testing::PrintToString(report->problems);
  }

  std::filesystem::path dir_;
  std::optional<rocks_store> source_;
  std::optional<rocks_store> hub_;
  std::map<std::string, hub_marks> held_;
  std::vector<resource_event> pending_;
  int t_ = 0;
};

TEST_F(hub_store_test, holds_what_the_cluster_holds_under_the_same_ids) {
  open_hub(day0 + 3600 * sec);
  auto msgs = delivered();
  ASSERT_EQ(msgs.size(), 13u);
  EXPECT_EQ(feed(msgs, 4), 0u);
  expect_same_answers(day0, day0 + day - 1);
  expect_same_answers(day0 + 5 * sec, day0 + 9 * sec);
  auto web = hub_->history({"shop", "deployments", "apps", "web"});
  ASSERT_TRUE(web);
  EXPECT_EQ(web->watch_events.size(), 4u);
  EXPECT_EQ(web->related_events.size(), 2u);
  // Ids go on after the highest one held.
  EXPECT_EQ(hub_->next_sequence(), source_->next_sequence());
}

TEST_F(hub_store_test, a_replay_and_records_sent_twice_are_passed_over) {
  open_hub(day0 + 3600 * sec);
  auto msgs = delivered();
  EXPECT_EQ(feed(msgs, 5), 0u);
  // A hub that crashed before committing reads everything again, and an
  // exporter that crashed before moving its cursor sends its last records
  // again (later in each partition).
  auto again = msgs;
  again.insert(again.end(), msgs.end() - 4, msgs.end());
  EXPECT_EQ(feed(again, 3), again.size());
  expect_same_answers(day0, day0 + day - 1);
}

TEST_F(hub_store_test, the_marks_survive_a_reopen) {
  open_hub(day0 + 3600 * sec);
  auto msgs = delivered();
  std::vector<kafka_received> first(msgs.begin(), msgs.begin() + 7);
  std::vector<kafka_received> rest(msgs.begin() + 7, msgs.end());
  EXPECT_EQ(feed(first, 7), 0u);
  hub_.reset();
  open_hub(day0 + 3600 * sec);
  // A new HUB INGEST reads each partition's mark from the store.
  for (int32_t p = 0; p < 3; ++p) {
    auto mark = hub_->export_cursor(hub_cursor_name("t", p));
    ASSERT_TRUE(mark);
    if (*mark != 0)
      held_["c1"][p] = *mark;
  }
  EXPECT_EQ(feed(msgs, 13), first.size());
  expect_same_answers(day0, day0 + day - 1);
}

TEST_F(hub_store_test, a_day_late_its_answers_about_that_day_are_the_same) {
  // The hub was down for a day: yesterday's records land in today's
  // partition, and windows over yesterday still find them.
  open_hub(day0 + day + 3600 * sec);
  EXPECT_EQ(feed(delivered(), 6), 0u);
  expect_same_answers(day0, day0 + day - 1);
  expect_same_answers(day0 + 5 * sec, day0 + 9 * sec);
}

TEST_F(hub_store_test, messages_that_are_no_record_of_a_served_cluster) {
  open_hub(day0 + 3600 * sec);
  auto msgs = delivered();
  auto other = msgs.front();
  auto at = other.value.find(R"("cluster":"c1")");
  ASSERT_NE(at, std::string::npos);
  other.value.replace(at, 14, R"("cluster":"c2")");
  auto garbage = msgs.front();
  garbage.value = "not json";
  auto batch = plan_hub_batch({other, garbage, msgs.front()}, held_);
  EXPECT_EQ(batch.other_clusters, 1u);
  ASSERT_EQ(batch.unreadable.size(), 1u);
  EXPECT_NE(batch.unreadable.front().find("offset 0"), std::string::npos)
    << batch.unreadable.front();
  ASSERT_EQ(batch.clusters.size(), 1u);
  EXPECT_EQ(batch.clusters["c1"].events.size(), 1u);
}

// A server's coverage gaps travel whole; the hub's store answers coverage
// as the server's does, and a list sent again changes nothing.
TEST_F(hub_store_test, the_gaps_a_server_sends_answer_coverage_at_the_hub) {
  open_hub(day0 + day + 3600 * sec);
  coverage_gap down;
  down.start_ns = day0 + 10 * sec;
  down.end_ns = day0 + 70 * sec;
  down.reason = "server down";
  coverage_gap relist;
  relist.group_resource = "deployments.apps";
  relist.start_ns = day0 + 100 * sec;
  relist.end_ns = day0 + 101 * sec;
  relist.from_resource_version = "10";
  relist.to_resource_version = "42";
  relist.reason = "410 Gone";
  // The server first watched its types when it stored their checkpoints.
  ASSERT_TRUE(source_->write({},
                             {{"configmaps", "1"},
                              {"deployments.apps", "1"},
                              {"events", "1"},
                              {"namespaces", "1"}},
                             {down, relist}));
  auto gaps = source_->coverage({});
  ASSERT_TRUE(gaps);
  ASSERT_EQ(gaps->size(), 2u);
  // The hub took the types' records a day after the server first watched
  // them: its own first-watch times are later, and give way.
  auto firsts = source_->first_watch_times();
  ASSERT_TRUE(firsts);
  ASSERT_EQ(firsts->size(), 4u);
  feed(delivered(), 100);
  auto late = hub_->first_watch_times();
  ASSERT_TRUE(late);
  EXPECT_NE(*late, *firsts);
  auto sent = coverage_message(*gaps, *firsts, "c1");
  EXPECT_EQ(sent.key, "c1/coverage");
  kafka_received msg{2, 7, sent.key, sent.value};
  auto other = msg;
  other.value = coverage_message(*gaps, *firsts, "c2").value;
  auto broken = msg;
  broken.value = R"({"coverage":[{"start":"yesterday"}],"cluster":"c1"})";
  for (int round = 0; round < 2; ++round) {
    auto batch = plan_hub_batch({other, broken, msg}, held_);
    EXPECT_EQ(batch.other_clusters, 1u);
    ASSERT_EQ(batch.unreadable.size(), 1u);
    EXPECT_NE(batch.unreadable.front().find("integer start"), std::string::npos)
      << batch.unreadable.front();
    ASSERT_EQ(batch.clusters.size(), 1u);
    const auto& b = batch.clusters["c1"];
    EXPECT_TRUE(b.events.empty());
    ASSERT_TRUE(hub_->write(b.events, b.checkpoints, b.gaps));
    ASSERT_FALSE(hub_->note_first_watch_times(b.first_watched));
    auto held = hub_->coverage({});
    auto held_firsts = hub_->first_watch_times();
    ASSERT_TRUE(held && held_firsts);
    EXPECT_EQ(coverage_message(*held, *held_firsts, "c1").value, sent.value)
      << "round " << round;
    // Over a window with a start: "not yet watched" ends where it does at
    // the server.
    coverage_query window{day0 - day, day0 + day};
    auto theirs = source_->coverage(window);
    auto ours = hub_->coverage(window);
    ASSERT_TRUE(theirs && ours);
    EXPECT_EQ(coverage_message(*ours, {}, "c1").value,
              coverage_message(*theirs, {}, "c1").value);
  }
}

} // namespace
} // namespace kws::storage
