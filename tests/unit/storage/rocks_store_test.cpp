#include "storage/rocks_store.hpp"

#include "messages/errors.hpp"
#include "messages/time_format.hpp"
#include "raw_db.hpp"
#include "storage/key_codec.hpp"
#include "storage/record_builder.hpp"
#include "storage/rocks_options.hpp"
#include "test_util.hpp"
#include "tests/support/contract_record.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rocksdb/db.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

namespace {

// 2026-11-26T00:00:00Z
constexpr int64_t day0 = 1'795'651'200'000'000'000;
constexpr int64_t sec = 1'000'000'000;

/// What the test expects a record to be, for brute-force oracles.
struct stored {
  uint64_t seq;
  resource_event ev;
};

uint64_t seq_of(const std::string& record) {
  rapidjson::Document doc;
  doc.Parse(record.c_str());
  EXPECT_TRUE(doc.IsObject() && doc.HasMember("id")) << record;
  return std::stoull(doc["id"].GetString(), nullptr, 16);
}

std::vector<uint64_t> seqs(const std::vector<std::string>& records) {
  std::vector<uint64_t> result;
  for (const auto& r : records)
    result.push_back(seq_of(r));
  return result;
}

/// Stops and joins a writer thread however the test body leaves.
struct writer_guard {
  std::atomic<bool>& stop;
  std::thread& thread;
  ~writer_guard() {
    stop = true;
    if (thread.joinable())
      thread.join();
  }
};

/// The column families of the database at `path`, sorted.
std::vector<std::string> family_names(const std::string& path) {
  std::vector<std::string> names;
  auto st = rocksdb::DB::ListColumnFamilies({}, path, &names);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::sort(names.begin(), names.end());
  return names;
}

class rocks_store_test : public testing::Test {
protected:
  void SetUp() override {
    dir_ = test_dir();
    std::filesystem::remove_all(dir_);
    clock_ = day0 + 3600 * sec;
  }

  void TearDown() override {
    store_.reset();
    std::error_code err;
    std::filesystem::remove_all(dir_, err);
  }

  store_options options(std::string sub = "db") {
    store_options opts;
    opts.path = (dir_ / sub).string();
    opts.sync = false;
    opts.clock = [this] { return clock_.load(); };
    return opts;
  }

  rocks_store& open() { return open(options()); }

  rocks_store& open(const store_options& opts) {
    store_.reset();
    auto s = rocks_store::open(opts);
    EXPECT_TRUE(s) << render(s.error());
    store_.emplace(std::move(*s));
    return *store_;
  }

  /// Writes `events` (none of them a repeat) and remembers them with their
  /// sequence numbers.
  write_result write(std::vector<resource_event> events,
                     const checkpoint_map& cps = {}) {
    auto res = store_->write(events, cps);
    EXPECT_TRUE(res) << render(res.error());
    if (!res)
      return {};
    EXPECT_EQ(res->ids.size(), events.size());
    for (size_t i = 0; i < res->ids.size() && i < events.size(); ++i)
      oracle_.push_back(
        {std::stoull(res->ids[i], nullptr, 16), std::move(events[i])});
    return *res;
  }

  /// Checks that `verify` finds no problem and `records` records.
  void expect_consistent(uint64_t records) {
    auto report = store_->verify();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->problems.empty()) << report->problems.front();
    EXPECT_EQ(report->records, records);
  }

  /// Writes two days: yesterday pods n/a (by kubectl) and m/b and an Event
  /// about n/a, today an update of n/a. Returns the history query of n/a.
  history_query write_two_days() {
    const int64_t yesterday = day0 - ns_per_day;
    clock_ = yesterday + 3600 * sec;
    auto about = make_event(yesterday + 3 * sec, verb::create, "n", "events",
                            "a.1", "ue", "3");
    about.link_ns = "n";
    about.link_resource = "pods";
    about.link_name = "a";
    write({make_event(yesterday + sec, verb::create, "n", "pods", "a", "ua",
                      "1", "kubectl"),
           make_event(yesterday + 2 * sec, verb::create, "m", "pods", "b", "ub",
                      "2"),
           about});
    clock_ = day0 + 3600 * sec;
    write({make_event(day0 + sec, verb::update, "n", "pods", "a", "ua", "4")});
    history_query hq;
    hq.ns = "n";
    hq.resource = "pods";
    hq.name = "a";
    auto history = store_->history(hq);
    EXPECT_TRUE(history);
    EXPECT_EQ(history->watch_events.size(), 2u);
    EXPECT_EQ(history->related_events.size(), 1u);
    return hq;
  }

  /// Brute-force answer to `q` (all pages).
  std::vector<uint64_t> expected(const event_query& q) {
    std::vector<const stored*> hits;
    for (const auto& s : oracle_)
      if (s.ev.timestamp_ns >= q.start_ns && s.ev.timestamp_ns <= q.end_ns
          && matches(q, summarize(s.ev)))
        hits.push_back(&s);
    std::sort(hits.begin(), hits.end(), [&](auto* a, auto* b) {
      auto pa = position{a->ev.timestamp_ns, a->seq};
      auto pb = position{b->ev.timestamp_ns, b->seq};
      return q.descending ? pb < pa : pa < pb;
    });
    std::vector<uint64_t> result;
    for (auto* h : hits)
      result.push_back(h->seq);
    return result;
  }

  /// Every page of `q`, concatenated.
  std::vector<uint64_t> all_pages(event_query q) {
    std::vector<uint64_t> result;
    for (int guard = 0; guard < 100'000; ++guard) {
      auto page = store_->query(q);
      EXPECT_TRUE(page) << render(page.error());
      if (!page)
        break;
      EXPECT_LE(page->records.size(), q.limit);
      auto got = seqs(page->records);
      result.insert(result.end(), got.begin(), got.end());
      if (!page->has_more) {
        EXPECT_TRUE(page->continue_token.empty());
        break;
      }
      EXPECT_EQ(page->records.size(), q.limit);
      q.continue_token = page->continue_token;
    }
    return result;
  }

  std::filesystem::path dir_;
  std::atomic<int64_t> clock_{0};
  std::optional<rocks_store> store_;
  std::vector<stored> oracle_;
};

} // namespace

TEST_F(rocks_store_test, writes_and_reads_back_records_with_ids) {
  open();
  auto res = write({make_event(day0 + 2 * sec, verb::create, "default", "pods",
                               "a", "ua", "1"),
                    make_event(day0 + 1 * sec, verb::create, "default", "pods",
                               "b", "ub", "2")});
  EXPECT_EQ(res.written, 2u);
  EXPECT_EQ(res.dropped, 0u);
  ASSERT_EQ(res.ids.size(), 2u);
  EXPECT_EQ(res.ids[0], "0000000000000001");
  EXPECT_EQ(res.ids[1], "0000000000000002");
  auto page = store_->query(event_query{});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->records.size(), 2u);
  // Ordered by timestamp: b (1 s) before a (2 s).
  EXPECT_EQ(page->records[0],
            "{\"id\":\"0000000000000002\",\"verb\":\"create\",\"namespace\":"
            "\"default\",\"resourceType\":\"pods\",\"resourceName\":\"b\","
            "\"uid\":\"ub\",\"resourceVersion\":\"2\",\"ts\":"
              + std::to_string(day0 + sec) + "}");
  EXPECT_EQ(seq_of(page->records[1]), 1u);
  EXPECT_FALSE(page->has_more);
  EXPECT_EQ(store_->partitions(), std::vector<std::string>{"p20261126"});
}

TEST_F(rocks_store_test, rejects_records_that_are_not_objects) {
  open();
  auto ev = make_event(day0, verb::create, "n", "pods", "a", "u", "1");
  ev.record = "[]";
  auto res = store_->write({ev});
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), ec::invalid_argument);
  EXPECT_EQ(store_->next_sequence(), 1u);
}

TEST_F(rocks_store_test, equal_timestamps_order_by_id) {
  open();
  std::vector<resource_event> batch;
  for (int i = 0; i < 5; ++i)
    batch.push_back(make_event(day0, verb::create, "n", "pods",
                               "p" + std::to_string(i), "u", "1"));
  write(batch);
  event_query q;
  EXPECT_EQ(all_pages(q), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  q.descending = true;
  q.limit = 2;
  EXPECT_EQ(all_pages(q), (std::vector<uint64_t>{5, 4, 3, 2, 1}));
}

TEST_F(rocks_store_test, drops_repeats_of_an_unchanged_resource_version) {
  open();
  write({make_event(day0, verb::create, "n", "pods", "a", "u1", "5")});
  // The same uid at the same resourceVersion: a repeat after a relist.
  auto dup = make_event(day0 + sec, verb::create, "n", "pods", "a", "u1", "5");
  auto res = store_->write({dup});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->written, 0u);
  EXPECT_EQ(res->dropped, 1u);
  // Within one batch the second copy sees the first.
  auto batch = std::vector<resource_event>{
    make_event(day0 + 2 * sec, verb::update, "n", "pods", "a", "u1", "6"),
    make_event(day0 + 3 * sec, verb::update, "n", "pods", "a", "u1", "6")};
  res = store_->write(batch);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->written, 1u);
  EXPECT_EQ(res->dropped, 1u);
  // A new uid under the same name (re-created object) is not a repeat.
  res = store_->write(
    {make_event(day0 + 4 * sec, verb::create, "n", "pods", "a", "u2", "6")});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->written, 1u);
  // Deletes are never dropped, even at the last known version (an inferred
  // delete carries it).
  res = store_->write(
    {make_event(day0 + 5 * sec, verb::remove, "n", "pods", "a", "u2", "6")});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->written, 1u);
  // The repeat check survives a restart.
  open();
  res = store_->write(
    {make_event(day0 + 6 * sec, verb::create, "n", "pods", "b", "u3", "9")});
  ASSERT_TRUE(res);
  open();
  res = store_->write(
    {make_event(day0 + 7 * sec, verb::create, "n", "pods", "b", "u3", "9")});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->dropped, 1u);
}

TEST_F(rocks_store_test, tracks_live_objects_per_resource_type) {
  open();
  write({make_event(day0, verb::create, "n", "pods", "a", "ua", "1"),
         make_event(day0, verb::create, "n", "pods", "b", "ub", "2"),
         make_event(day0, verb::create, "", "nodes", "node-1", "un", "3"),
         make_event(day0, verb::create, "n", "deployments", "web", "ud", "4")});
  write({make_event(day0 + sec, verb::update, "n", "pods", "a", "ua", "7"),
         make_event(day0 + sec, verb::remove, "n", "pods", "b", "ub", "8")});
  auto live = store_->live_objects("pods");
  ASSERT_TRUE(live);
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].key, "n/a");
  EXPECT_EQ((*live)[0].uid, "ua");
  EXPECT_EQ((*live)[0].resource_version, "7");
  auto node_list = store_->live_objects("nodes");
  ASSERT_TRUE(node_list);
  ASSERT_EQ(node_list->size(), 1u);
  EXPECT_EQ((*node_list)[0].key, "node-1");
  auto deploys = store_->live_objects("deployments.apps");
  ASSERT_TRUE(deploys);
  EXPECT_EQ(deploys->size(), 1u);
  auto none = store_->live_objects("secrets");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(rocks_store_test, checkpoints_are_written_with_the_batch) {
  open();
  auto cp = store_->checkpoint("pods");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->resource_version, "");
  write({make_event(day0, verb::create, "n", "pods", "a", "ua", "10")},
        {{"pods", "10"}, {"deployments.apps", "3"}});
  // A checkpoint alone (a bookmark) is a write too.
  ASSERT_TRUE(store_->write({}, {{"nodes", "11"}}));
  open();
  EXPECT_EQ(store_->checkpoint("pods")->resource_version, "10");
  EXPECT_EQ(store_->checkpoint("deployments.apps")->resource_version, "3");
  EXPECT_EQ(store_->checkpoint("nodes")->resource_version, "11");
}

TEST_F(rocks_store_test, reopen_loses_nothing_and_continues_ids) {
  open();
  for (int b = 0; b < 20; ++b) {
    std::vector<resource_event> batch;
    for (int i = 0; i < 50; ++i)
      batch.push_back(make_event(
        day0 + (b * 50 + i) * sec, verb::update, "ns" + std::to_string(i % 3),
        "pods", "p" + std::to_string(i), "u" + std::to_string(i),
        std::to_string(b * 100 + i)));
    write(batch);
  }
  event_query q;
  q.limit = 1000;
  auto before = all_pages(q);
  ASSERT_EQ(before.size(), 1000u);
  open();
  EXPECT_EQ(all_pages(q), before);
  EXPECT_EQ(store_->next_sequence(), 1001u);
  auto res
    = write({make_event(day0, verb::create, "x", "pods", "new", "un", "1")});
  ASSERT_EQ(res.ids.size(), 1u);
  EXPECT_EQ(res.ids[0], format_id(1001));
  expect_consistent(1001u);
}

TEST_F(rocks_store_test,
       every_filter_and_page_size_matches_a_brute_force_oracle) {
  open();
  std::mt19937_64 rng{42};
  auto pick = [&](std::initializer_list<const char*> xs) {
    std::vector<const char*> v{xs};
    return std::string{v[rng() % v.size()]};
  };
  // Four ingest days; creates from a first list carry old timestamps, so
  // partitions overlap in time.
  for (int day = 0; day < 4; ++day) {
    clock_ = day0 + day * ns_per_day + 60 * sec;
    for (int b = 0; b < 5; ++b) {
      std::vector<resource_event> batch;
      for (int i = 0; i < 40; ++i) {
        auto resource = pick({"pods", "deployments", "events", "nodes"});
        auto ns = resource == "nodes" ? std::string{}
                                      : pick({"default", "kube-system", "a"});
        auto name = pick({"web", "db", "cache", "x"});
        int64_t ts = (rng() % 10 == 0)
          ? day0 - static_cast<int64_t>(rng() % 30) * ns_per_day
          : clock_.load() + static_cast<int64_t>(rng() % 3600) * sec;
        auto ev
          = make_event(ts, static_cast<verb>(rng() % 3), ns, resource, name,
                       "uid-" + name + "-" + std::to_string(rng() % 3),
                       std::to_string(rng()),
                       pick({"kubelet", "kubectl", "system:k8s-watcher"}));
        if (resource == "events" && rng() % 2 == 0) {
          ev.link_ns = ns;
          ev.link_resource = "pods";
          ev.link_name = pick({"web", "db"});
        }
        batch.push_back(std::move(ev));
      }
      write(batch);
    }
  }
  ASSERT_EQ(oracle_.size(), 800u);
  EXPECT_EQ(store_->partitions().size(), 4u);
  for (int round = 0; round < 300; ++round) {
    event_query q;
    if (rng() % 3 == 0)
      q.ns = pick({"default", "kube-system", "a", "none"});
    if (rng() % 3 == 0)
      q.resource = pick({"pods", "deployments", "events", "nodes"});
    if (rng() % 6 == 0)
      q.group = pick({"apps", "nope"});
    if (rng() % 4 == 0)
      q.name = pick({"web", "db", "cache", "x"});
    if (rng() % 4 == 0)
      q.verb = pick({"create", "update", "delete"});
    if (rng() % 5 == 0)
      q.user = pick({"kubelet", "kubectl", "system:k8s-watcher"});
    if (rng() % 6 == 0)
      q.uid = "uid-" + pick({"web", "db"}) + "-" + std::to_string(rng() % 3);
    if (rng() % 3 == 0) {
      q.start_ns = day0 - static_cast<int64_t>(rng() % 20) * ns_per_day;
      q.end_ns = day0 + static_cast<int64_t>(rng() % 5) * ns_per_day;
    }
    q.descending = rng() % 2 == 0;
    q.limit = static_cast<uint32_t>(1 + rng() % 50);
    auto want = expected(q);
    EXPECT_EQ(all_pages(q), want)
      << "round " << round << " ns=" << q.ns << " res=" << q.resource
      << " group=" << q.group << " name=" << q.name << " verb=" << q.verb
      << " user=" << q.user << " uid=" << q.uid << " desc=" << q.descending
      << " limit=" << q.limit;
  }
}

TEST_F(rocks_store_test, validates_queries_and_tokens) {
  open();
  std::vector<resource_event> batch;
  for (int i = 0; i < 10; ++i)
    batch.push_back(make_event(day0 + i, verb::create, "n", "pods",
                               "p" + std::to_string(i), "u", "1"));
  write(batch);
  event_query q;
  q.limit = 0;
  auto r = store_->query(q);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::invalid_argument);
  q.limit = 3;
  q.start_ns = 10;
  q.end_ns = 5;
  r = store_->query(q);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::invalid_argument);
  q = event_query{};
  q.limit = 3;
  auto page = store_->query(q);
  ASSERT_TRUE(page && page->has_more);
  // The token with other filters.
  auto other = q;
  other.ns = "n";
  other.continue_token = page->continue_token;
  r = store_->query(other);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::invalid_argument);
  EXPECT_EQ(r.error().context().get_as<std::string>(0), "continue");
  // Garbage.
  q.continue_token = "not-a-token";
  r = store_->query(q);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().context().get_as<std::string>(0), "continue");
  // The limit may change between pages.
  q.continue_token = page->continue_token;
  q.limit = 100;
  auto rest = store_->query(q);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->records.size(), 7u);
  EXPECT_FALSE(rest->has_more);
}

TEST_F(rocks_store_test,
       history_holds_every_version_and_uid_and_related_events) {
  open();
  auto ev1 = make_event(day0 + 1 * sec, verb::create, "default", "pods", "web",
                        "u1", "1");
  auto ev2 = make_event(day0 + 2 * sec, verb::update, "default", "pods", "web",
                        "u1", "2");
  auto ev3 = make_event(day0 + 3 * sec, verb::remove, "default", "pods", "web",
                        "u1", "3");
  auto ev4 = make_event(day0 + 4 * sec, verb::create, "default", "pods", "web",
                        "u2", "4");
  auto other = make_event(day0 + 2 * sec, verb::create, "default", "pods",
                          "web2", "u9", "5");
  auto same_name_other_ns = make_event(day0 + 2 * sec, verb::create, "prod",
                                       "pods", "web", "u8", "6");
  auto event = make_event(day0 + int64_t{2500} * 1'000'000, verb::create,
                          "default", "events", "web.1", "ue", "7");
  event.link_ns = "default";
  event.link_resource = "pods";
  event.link_name = "web";
  write({ev1, ev2, other, same_name_other_ns, event});
  clock_ = clock_ + ns_per_day; // The second life lands in another partition.
  write({ev3, ev4});
  history_query hq;
  hq.ns = "default";
  hq.resource = "pods";
  hq.name = "web";
  auto h = store_->history(hq);
  ASSERT_TRUE(h) << render(h.error());
  EXPECT_TRUE(h->found);
  EXPECT_EQ(seqs(h->watch_events), (std::vector<uint64_t>{1, 2, 6, 7}));
  EXPECT_EQ(seqs(h->related_events), (std::vector<uint64_t>{5}));
  // Time range and limit apply to both lists.
  hq.start_ns = day0 + 2 * sec;
  hq.end_ns = day0 + 3 * sec;
  h = store_->history(hq);
  ASSERT_TRUE(h);
  EXPECT_EQ(seqs(h->watch_events), (std::vector<uint64_t>{2, 6}));
  EXPECT_EQ(seqs(h->related_events), (std::vector<uint64_t>{5}));
  hq.limit = 1;
  h = store_->history(hq);
  ASSERT_TRUE(h);
  EXPECT_EQ(seqs(h->watch_events), (std::vector<uint64_t>{2}));
  // Seen, but not in the range: found with empty lists.
  hq.limit = 100;
  hq.start_ns = day0 + 100 * sec;
  hq.end_ns = max_time_ns;
  h = store_->history(hq);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->found);
  EXPECT_TRUE(h->watch_events.empty());
  // Never seen.
  history_query unknown;
  unknown.ns = "default";
  unknown.resource = "pods";
  unknown.name = "nope";
  h = store_->history(unknown);
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->found);
  // A group that does not match narrows the object away.
  hq = history_query{};
  hq.ns = "default";
  hq.resource = "pods";
  hq.name = "web2";
  hq.group = "apps";
  h = store_->history(hq);
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->found);
}

TEST_F(rocks_store_test, cluster_scoped_history_uses_the_empty_namespace) {
  open();
  write({make_event(day0, verb::create, "", "nodes", "node-1", "un", "1"),
         make_event(day0, verb::create, "x", "nodes", "node-1", "uz", "1")});
  history_query hq;
  hq.resource = "nodes";
  hq.name = "node-1";
  auto h = store_->history(hq);
  ASSERT_TRUE(h);
  EXPECT_EQ(seqs(h->watch_events), (std::vector<uint64_t>{1}));
}

TEST_F(rocks_store_test, retention_drops_exactly_the_expired_partitions) {
  open();
  const std::string blob(4096, 'x');
  // Twenty ingest days, 2026-11-06 .. 2026-11-25, one record set each.
  for (int d = 20; d >= 1; --d) {
    clock_ = day0 - d * ns_per_day + 3600 * sec;
    std::vector<resource_event> batch;
    for (int i = 0; i < 200; ++i) {
      auto ev = make_event(clock_ + i, verb::update, "n", "pods",
                           "p" + std::to_string(i), "u" + std::to_string(i),
                           std::to_string(d * 1000 + i));
      // Incompressible payload, so the disk use is visible.
      std::string payload;
      std::mt19937_64 rng(static_cast<uint64_t>(d * 1000 + i));
      for (size_t k = 0; k < 512; ++k)
        payload += static_cast<char>('a' + rng() % 26);
      ev.record.insert(1, "\"blob\":\"" + payload + "\",");
      batch.push_back(std::move(ev));
    }
    write(batch);
  }
  ASSERT_TRUE(store_->flush() == caf::error{});
  ASSERT_EQ(store_->partitions().size(), 20u);
  const auto before = dir_bytes(dir_);
  // Now is 2026-11-26 12:00; retention 14 days keeps days whose end is less
  // than 14 days ago: 2026-11-12 ends 11-13 00:00, 13.5 days ago → kept;
  // 2026-11-11 ends 11-12 00:00, 14.5 days ago → dropped.
  const int64_t now = day0 + int64_t{12} * 3600 * sec;
  auto dropped = store_->drop_expired(now, 14);
  ASSERT_TRUE(dropped) << render(dropped.error());
  EXPECT_EQ(*dropped, 6u);
  auto parts = store_->partitions();
  ASSERT_EQ(parts.size(), 14u);
  EXPECT_EQ(parts.front(), "p20261112");
  EXPECT_EQ(parts.back(), "p20261125");
  // A second run finds nothing more.
  EXPECT_EQ(*store_->drop_expired(now, 14), 0u);
  // Queries see only the retained days.
  event_query q;
  q.limit = 1000;
  auto remaining = all_pages(q);
  EXPECT_EQ(remaining.size(), 14u * 200u);
  // The files of the dropped partitions are gone from disk.
  ASSERT_TRUE(store_->flush() == caf::error{});
  const auto after = dir_bytes(dir_);
  EXPECT_LT(after, before - before / 5)
    << "before " << before << " after " << after;
  // Dropped partitions stay dropped across a reopen, records and indexes.
  store_.reset();
  auto families = family_names(options().path);
  EXPECT_EQ(families.size(), 2u + 2u * 14u);
  EXPECT_EQ(std::count(families.begin(), families.end(), "r20261111"), 0);
  EXPECT_EQ(std::count(families.begin(), families.end(), "r20261112"), 1);
  open();
  EXPECT_EQ(store_->partitions().size(), 14u);
  auto report = store_->verify();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty());
  EXPECT_EQ(report->records, 14u * 200u);
  auto zero = store_->drop_expired(now, 0);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error(), ec::invalid_argument);
}

TEST_F(rocks_store_test, each_day_keeps_its_records_apart_from_its_indexes) {
  open();
  write(
    {make_event(day0 + sec, verb::create, "n", "pods", "a", "ua", "1"),
     make_event(day0 + 2 * sec, verb::update, "n", "pods", "a", "ua", "2")});
  store_.reset();
  const auto path = options().path;
  EXPECT_EQ(
    family_names(path),
    (std::vector<std::string>{"default", "meta", "p20261126", "r20261126"}));
  raw_db raw{path};
  EXPECT_EQ(raw.key_tags("r20261126"), (std::map<char, size_t>{{'r', 2}}));
  auto index = raw.key_tags("p20261126");
  EXPECT_EQ(index.count('r'), 0u);
  EXPECT_EQ(index['h'], 2u);
  EXPECT_EQ(index['u'], 2u);
}

TEST_F(rocks_store_test, statistics_cover_every_column_family_it_reads) {
  open();
  write({make_event(day0 + sec, verb::create, "n", "pods", "a", "ua", "1")});
  ASSERT_TRUE(store_->flush() == caf::error{});
  auto text = store_->statistics();
  for (const auto* name : {"p20261126", "r20261126", "meta"})
    EXPECT_NE(text.find(std::string{"** "} + name + " **"), std::string::npos)
      << name << " missing from:\n"
      << text;
  // Flushed data shows up as a file at L0.
  EXPECT_NE(text.find("L0      1/0"), std::string::npos) << text;
}

TEST_F(rocks_store_test, reads_and_retires_days_written_before_the_split) {
  const int64_t yesterday = day0 - ns_per_day;
  open();
  auto hq = write_two_days();
  event_query all;
  all.limit = 2; // Pages cross the two days.
  const auto before = all_pages(all);
  ASSERT_EQ(before.size(), 4u);
  auto history_before = store_->history(hq);
  ASSERT_TRUE(history_before);
  store_.reset();
  // Yesterday as an older version wrote it: records in the partition.
  raw_db{options().path}.merge_records_into_partition(day_index(yesterday));
  EXPECT_EQ(family_names(options().path),
            (std::vector<std::string>{"default", "meta", "p20261125",
                                      "p20261126", "r20261126"}));
  open();
  EXPECT_EQ(all_pages(all), before);
  auto history_after = store_->history(hq);
  ASSERT_TRUE(history_after);
  EXPECT_EQ(history_after->watch_events, history_before->watch_events);
  EXPECT_EQ(history_after->related_events, history_before->related_events);
  expect_consistent(4u);
  // Retention drops the old day like any other.
  auto dropped = store_->drop_expired(day0 + 14 * ns_per_day, 14);
  ASSERT_TRUE(dropped) << render(dropped.error());
  EXPECT_EQ(*dropped, 1u);
  store_.reset();
  EXPECT_EQ(
    family_names(options().path),
    (std::vector<std::string>{"default", "meta", "p20261126", "r20261126"}));
}

TEST_F(rocks_store_test, reads_index_entries_holding_whole_summaries) {
  const int64_t yesterday = day0 - ns_per_day;
  open();
  auto hq = write_two_days();
  std::vector<event_query> queries(6);
  queries[0].ns = "n";
  queries[1].ns = "n";
  queries[1].resource = "pods";
  queries[2].resource = "pods";
  queries[2].verb = "create";
  queries[3].user = "kubectl";
  queries[4].uid = "ub";
  queries[5].name = "a";
  std::vector<decltype(all_pages(queries[0]))> before;
  for (const auto& q : queries) {
    before.push_back(all_pages(q));
    ASSERT_FALSE(before.back().empty());
  }
  auto history_before = store_->history(hq);
  ASSERT_TRUE(history_before);
  store_.reset();
  // 8 + 8 + 9 entries of yesterday's three records (the Event links).
  EXPECT_EQ(raw_db{options().path}.write_whole_summaries(day_index(yesterday)),
            25u);
  open();
  for (size_t i = 0; i < queries.size(); ++i)
    EXPECT_EQ(all_pages(queries[i]), before[i]) << "query " << i;
  auto history_after = store_->history(hq);
  ASSERT_TRUE(history_after);
  EXPECT_EQ(history_after->watch_events, history_before->watch_events);
  EXPECT_EQ(history_after->related_events, history_before->related_events);
  expect_consistent(4u);
}

TEST_F(rocks_store_test, completes_a_day_whose_records_family_exists_alone) {
  open();
  write({make_event(day0 + sec, verb::create, "n", "pods", "a", "ua", "1")});
  store_.reset();
  // A crash between creating a day's two column families leaves this.
  raw_db{options().path}.create_family("r20261120");
  open();
  EXPECT_EQ(store_->partitions(),
            (std::vector<std::string>{"p20261120", "p20261126"}));
  expect_consistent(1u);
  auto dropped = store_->drop_expired(day0 + 8 * ns_per_day, 14);
  ASSERT_TRUE(dropped) << render(dropped.error());
  EXPECT_EQ(*dropped, 0u);
  dropped = store_->drop_expired(day0 + 14 * ns_per_day, 14);
  ASSERT_TRUE(dropped) << render(dropped.error());
  EXPECT_EQ(*dropped, 1u);
  store_.reset();
  EXPECT_EQ(
    family_names(options().path),
    (std::vector<std::string>{"default", "meta", "p20261126", "r20261126"}));
}

TEST_F(rocks_store_test, pagination_never_repeats_or_skips_during_ingest) {
  open();
  std::vector<resource_event> seed;
  for (int i = 0; i < 500; ++i)
    seed.push_back(make_event(day0 + i * sec, verb::update, "n", "pods",
                              "p" + std::to_string(i % 20), "u",
                              std::to_string(i)));
  write(seed);
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::atomic<bool> failed{false};
  // The reader asks for batches between pages; the writer stores them while
  // the reader already reads the next page.
  std::atomic<int> wanted{0};
  std::thread writer{[&] {
    std::mt19937_64 rng{7};
    int n = 0;
    while (!stop) {
      if (batches >= wanted) {
        std::this_thread::yield();
        continue;
      }
      std::vector<resource_event> batch;
      for (int i = 0; i < 10; ++i, ++n) {
        // Some land before the readers' position, some after, some at
        // exactly the same timestamps as existing records.
        int64_t ts = day0 + static_cast<int64_t>(rng() % 700) * sec;
        batch.push_back(make_event(ts, verb::update, "n", "pods",
                                   "p" + std::to_string(n % 20), "u",
                                   "w" + std::to_string(n)));
      }
      if (auto res = store_->write(batch); !res) {
        ADD_FAILURE() << render(res.error());
        failed = true;
        return;
      }
      ++batches;
    }
  }};
  writer_guard guard{stop, writer};
  // Makes sure the writer stored at least one more batch.
  auto await_ingest = [&] {
    wanted += 2;
    while (batches < wanted - 1 && !failed)
      std::this_thread::yield();
  };
  for (bool desc : {false, true}) {
    event_query q;
    q.ns = "n";
    q.resource = "pods";
    q.limit = 7;
    q.descending = desc;
    std::vector<uint64_t> got;
    std::vector<position> order;
    uint64_t max_seq = 0;
    for (;;) {
      auto page = store_->query(q);
      ASSERT_TRUE(page) << render(page.error());
      for (const auto& rec : page->records)
        got.push_back(seq_of(rec));
      if (!page->has_more)
        break;
      auto cursor = decode_cursor(page->continue_token);
      ASSERT_TRUE(cursor);
      if (max_seq == 0)
        max_seq = cursor->max_seq;
      EXPECT_EQ(cursor->max_seq, max_seq);
      q.continue_token = page->continue_token;
      await_ingest();
    }
    // No repeats.
    std::set<uint64_t> unique(got.begin(), got.end());
    EXPECT_EQ(unique.size(), got.size());
    // No skips: exactly the records that existed when page one was read.
    auto everything = event_query{};
    everything.limit = 1000;
    everything.descending = desc;
    everything.ns = "n";
    everything.resource = "pods";
    std::vector<uint64_t> want;
    auto first = store_->query(everything);
    ASSERT_TRUE(first);
    // Read the whole current store and keep what page one could see.
    event_query all = everything;
    std::vector<uint64_t> now_all;
    for (;;) {
      auto page = store_->query(all);
      ASSERT_TRUE(page);
      for (auto s : seqs(page->records))
        now_all.push_back(s);
      if (!page->has_more)
        break;
      all.continue_token = page->continue_token;
    }
    for (auto s : now_all)
      if (s <= max_seq)
        want.push_back(s);
    EXPECT_GE(want.size(), 500u);
    EXPECT_EQ(got, want);
  }
  stop = true;
  writer.join();
  auto report = store_->verify();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty());
}

TEST_F(rocks_store_test, backup_during_writes_restores_to_equal_answers) {
  open();
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::atomic<bool> failed{false};
  std::thread writer{[&] {
    int n = 0;
    while (!stop) {
      std::vector<resource_event> batch;
      for (int i = 0; i < 20; ++i, ++n)
        batch.push_back(make_event(
          day0 + int64_t{n} * 1000, verb::update, "ns" + std::to_string(n % 4),
          "pods", "p" + std::to_string(n % 50), "u", std::to_string(n)));
      if (auto res = store_->write(batch); !res) {
        ADD_FAILURE() << render(res.error());
        failed = true;
        return;
      }
      ++batches;
    }
  }};
  writer_guard guard{stop, writer};
  while (batches < 20 && !failed)
    std::this_thread::yield();
  // Its parent does not exist yet either.
  auto backup_dir = (dir_ / "backups" / "today").string();
  auto err = store_->backup(backup_dir);
  ASSERT_FALSE(err) << render(err);
  while (batches < 40 && !failed)
    std::this_thread::yield();
  stop = true;
  writer.join();
  auto restored_dir = (dir_ / "restored").string();
  err = rocks_store::restore(backup_dir, restored_dir);
  ASSERT_FALSE(err) << render(err);
  auto opts = options("restored");
  auto restored = rocks_store::open(opts);
  ASSERT_TRUE(restored) << render(restored.error());
  auto report = restored->verify();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty());
  // The backup holds whole batches: a prefix of the ids.
  const uint64_t cut = restored->next_sequence() - 1;
  EXPECT_EQ(cut % 20, 0u);
  EXPECT_GE(cut, 20u * 20u);
  EXPECT_EQ(report->records, cut);
  // Every query answers as the original does, restricted to that prefix.
  for (auto ns : {"", "ns1", "ns3"}) {
    event_query q;
    q.ns = ns;
    q.limit = 1000;
    std::vector<uint64_t> original;
    std::vector<uint64_t> copy;
    for (auto* target : {&*store_, &*restored}) {
      event_query page_q = q;
      for (;;) {
        auto page = target->query(page_q);
        ASSERT_TRUE(page);
        for (const auto& rec : page->records) {
          auto s = seq_of(rec);
          if (target == &*restored)
            copy.push_back(s);
          else if (s <= cut)
            original.push_back(s);
        }
        if (!page->has_more)
          break;
        page_q.continue_token = page->continue_token;
      }
    }
    EXPECT_EQ(copy, original);
  }
  history_query hq;
  hq.ns = "ns1";
  hq.resource = "pods";
  hq.name = "p1";
  auto a = store_->history(hq);
  auto b = restored->history(hq);
  ASSERT_TRUE(a && b);
  std::vector<std::string> prefix;
  for (const auto& r : a->watch_events)
    if (seq_of(r) <= cut)
      prefix.push_back(r);
  EXPECT_EQ(b->watch_events, prefix);
  // Restoring over a non-empty directory is refused.
  err = rocks_store::restore(backup_dir, restored_dir);
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::invalid_argument);
}

TEST_F(rocks_store_test, built_records_decode_strictly_as_the_contract_array) {
  open();
  resource_type secrets{"", "v1", "Secret", "secrets", true};
  std::vector<resource_event> batch;
  auto add = [&](const resource_type& rt, verb v, const char* file,
                 record_options opts = {}) {
    auto ev = build_record(rt, v, read_fixture(file), day0 + sec, opts);
    ASSERT_TRUE(ev) << file;
    batch.push_back(std::move(*ev));
  };
  add(pods(), verb::create, "pod.json", record_options{true, false, true});
  add(pods(), verb::remove, "pod.json", record_options{false, true, true});
  add(secrets, verb::update, "secret.json");
  add(core_events(), verb::create, "event_v1.json");
  add(nodes(), verb::update, "node.json");
  add(deployments(), verb::update, "deployment.json");
  write(batch);
  auto page = store_->query(event_query{});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->records.size(), 6u);
  // The body rest/render writes: the records joined into an array.
  std::string body = "[";
  for (size_t i = 0; i < page->records.size(); ++i)
    body += (i ? "," : "") + page->records[i];
  body += "]";
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  ASSERT_FALSE(doc.HasParseError());
  ASSERT_TRUE(doc.IsArray());
  std::set<std::string> ids;
  for (const auto& rec : doc.GetArray()) {
    kws::test::expect_contract_record(rec);
    EXPECT_TRUE(ids.insert(rec["id"].GetString()).second);
    if (rec.HasMember("finalStateUnknown")) {
      EXPECT_TRUE(rec["finalStateUnknown"].IsBool());
    }
    if (std::string{rec["resourceType"].GetString()} == "events") {
      EXPECT_TRUE(rec["reason"].IsString());
      EXPECT_TRUE(rec["type"].IsString());
      EXPECT_TRUE(rec["count"].IsInt());
      ASSERT_TRUE(rec["involvedObject"].IsObject());
      for (const char* key : {"kind", "namespace", "name", "uid", "apiVersion"})
        EXPECT_TRUE(rec["involvedObject"][key].IsString()) << key;
    }
  }
}

TEST_F(rocks_store_test, history_walks_skip_days_without_the_object) {
  const int64_t yesterday = day0 - ns_per_day;
  // Every seek on the caller, whose perf context is the one counted.
  auto opts = options();
  opts.read_threads = 1;
  open(opts);
  clock_ = yesterday + 3600 * sec;
  write(
    {make_event(yesterday + sec, verb::create, "n", "pods", "a", "ua", "1")});
  clock_ = day0 + 3600 * sec;
  write({make_event(day0 + sec, verb::create, "n", "pods", "b", "ub", "2")});
  // Filters exist in files only.
  ASSERT_TRUE(store_->flush() == caf::error{});
  history_query hq;
  hq.ns = "n";
  hq.resource = "pods";
  hq.name = "a";
  // RocksDB counts, per thread, the files its filters ruled out.
  struct counting {
    counting() {
      rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
      rocksdb::get_perf_context()->Reset();
    }
    ~counting() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }
  } scope;
  auto h = store_->history(hq);
  ASSERT_TRUE(h) << render(h.error());
  EXPECT_EQ(h->watch_events.size(), 1u);
  // Three walks find nothing: the object's entries today, and the Events
  // about it on either day. Each is answered by a filter, not a block.
  EXPECT_EQ(rocksdb::get_perf_context()->bloom_sst_miss_count, 3u);
}

TEST_F(rocks_store_test, reads_shared_with_helpers_equal_reads_alone) {
  // Six days: each has 300 pods, every third in namespace "b", and an update
  // of pod "kept", so a page reads 200 records of a day in ranges of 66 and
  // more, and a history seeks every day and reads one record of each.
  open();
  std::vector<uint64_t> kept;
  for (int d = 0; d < 6; ++d) {
    clock_ = day0 + d * ns_per_day;
    std::vector<resource_event> day;
    for (int i = 0; i < 300; ++i) {
      auto n = std::to_string(d * 300 + i);
      day.push_back(make_event(clock_.load() + i * sec, verb::create,
                               i % 3 == 2 ? "b" : "a", "pods", "p" + n, "u" + n,
                               n));
    }
    day.push_back(make_event(clock_.load() + 400 * sec,
                             d == 0 ? verb::create : verb::update, "a", "pods",
                             "kept", "uk", "k" + std::to_string(d)));
    write(day);
    kept.push_back(oracle_.back().seq);
  }
  // Files for the older days, the memtable for the newest.
  ASSERT_TRUE(store_->flush() == caf::error{});
  write({make_event(day0 + 5 * ns_per_day + 500 * sec, verb::update, "a",
                    "pods", "kept", "uk", "k6")});
  kept.push_back(oracle_.back().seq);
  event_query page;
  page.ns = "a";
  page.resource = "pods";
  page.limit = 1000;
  const auto want = expected(page);
  ASSERT_EQ(want.size(), 6u * 200 + 7);
  const std::vector<uint64_t> first_page(want.begin(), want.begin() + 1000);
  event_query small = page;
  small.limit = 70;
  history_query hq;
  hq.ns = "a";
  hq.resource = "pods";
  hq.name = "kept";
  // The caller alone, then helpers that join at once: every seek and every
  // range of records is then handed out.
  for (auto [threads, slow_us] : {std::pair{1u, 150}, std::pair{4u, 0}}) {
    auto opts = options();
    opts.read_threads = threads;
    opts.slow_seek = std::chrono::microseconds{slow_us};
    open(opts);
    auto p = store_->query(page);
    ASSERT_TRUE(p) << render(p.error());
    EXPECT_EQ(seqs(p->records), first_page) << threads << " threads";
    EXPECT_TRUE(p->has_more);
    EXPECT_EQ(all_pages(small), want) << threads << " threads";
    auto h = store_->history(hq);
    ASSERT_TRUE(h) << render(h.error());
    EXPECT_EQ(seqs(h->watch_events), kept) << threads << " threads";
  }
}

TEST_F(rocks_store_test, files_keep_index_and_filters_in_partitions) {
  open();
  write({make_event(day0 + sec, verb::create, "n", "pods", "a", "ua", "1")});
  ASSERT_TRUE(store_->flush() == caf::error{});
  store_.reset();
  raw_db raw{options().path};
  // A lookup loads the partitions it needs under a small top level,
  // so the cache holds what queries touch, not every file's whole index.
  for (const auto& name :
       {partition_name(day0 / ns_per_day), records_name(day0 / ns_per_day)}) {
    auto files = raw.tables(name);
    ASSERT_FALSE(files.empty()) << name;
    for (const auto& t : files) {
      EXPECT_GE(t->index_partitions, 1u) << name;
      EXPECT_GT(t->top_level_index_size, 0u) << name;
      EXPECT_GT(t->filter_size, 0u) << name;
    }
  }
}

TEST_F(rocks_store_test, compacting_ends_when_the_merges_are_done) {
  open();
  // RocksDB merges a family's L0 files once four have piled up.
  for (int i = 0; i < 4; ++i) {
    write({make_event(day0 + i * sec, verb::create, "n", "pods",
                      "p" + std::to_string(i), "u" + std::to_string(i), "1")});
    ASSERT_TRUE(store_->flush() == caf::error{});
  }
  for (int i = 0; i < 600 && store_->compacting(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  ASSERT_FALSE(store_->compacting());
  auto text = store_->statistics();
  auto from = text.find("** p20261126 **");
  ASSERT_NE(from, std::string::npos) << text;
  // Up to the records family, which statistics() lists next.
  auto index = text.substr(from, text.find("** r20261126 **") - from);
  // The index family's four files became one in L1.
  EXPECT_NE(index.find("L1      1/0"), std::string::npos) << index;
  EXPECT_EQ(index.find("L0      4/0"), std::string::npos) << index;
}
