// Reading the rocks_store: every filter, a caller's access filter and page
// size against a brute-force oracle, query and token validation, object
// histories, pages that never repeat or skip during ingest, and reads
// shared with helpers.
#include "rocks_store_fixture.hpp"
#include "storage/key_codec.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

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
    // What a caller may read: some types everywhere, some in one namespace.
    if (rng() % 3 == 0) {
      q.access.everything = false;
      for (const char* gr : {"deployments.apps", "events", "nodes", "pods"})
        if (rng() % 3 == 0)
          q.access.cluster_types.emplace_back(gr);
      for (const char* pair : {"a/events", "a/pods", "default/deployments.apps",
                               "default/pods", "kube-system/events"})
        if (rng() % 2 == 0)
          q.access.namespace_types.emplace_back(pair);
    }
    auto want = expected(q);
    EXPECT_EQ(all_pages(q), want)
      << "round " << round << " ns=" << q.ns << " res=" << q.resource
      << " group=" << q.group << " name=" << q.name << " verb=" << q.verb
      << " user=" << q.user << " uid=" << q.uid << " desc=" << q.descending
      << " limit=" << q.limit << " access=" << q.access.everything << "/"
      << q.access.cluster_types.size() << "/"
      << q.access.namespace_types.size();
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
