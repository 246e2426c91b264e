// The fixture of the rocks_store tests: a store in the test's own
// directory on a clock only the test moves, and a brute-force oracle of
// everything written so paged answers can be checked against it. Shared
// by the rocks_store_*_test.cpp files, so it lives in a named namespace.
#pragma once

#include "storage/key_codec.hpp"
#include "storage/rocks_store.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kws::storage::test {

// 2026-11-26T00:00:00Z
inline constexpr int64_t day0 = 1'795'651'200'000'000'000;
inline constexpr int64_t sec = 1'000'000'000;

/// What the test expects a record to be, for brute-force oracles.
struct stored {
  uint64_t seq;
  resource_event ev;
};

inline uint64_t seq_of(const std::string& record) {
  rapidjson::Document doc;
  doc.Parse(record.c_str());
  EXPECT_TRUE(doc.IsObject() && doc.HasMember("id")) << record;
  return std::stoull(doc["id"].GetString(), nullptr, 16);
}

inline std::vector<uint64_t> seqs(const std::vector<std::string>& records) {
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
inline std::vector<std::string> family_names(const std::string& path) {
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

  /// Waits, up to a minute, until RocksDB has no compaction running or due.
  void wait_for_compactions() {
    for (int i = 0; i < 12000 && store_->compacting(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }

  /// Writes `count` Pod creates a second apart from `day0`, each flushed
  /// into a records file of its own, and waits for compactions after each
  /// when `settle`.
  void write_one_per_flush(int count, bool settle) {
    for (int i = 0; i < count; ++i) {
      auto n = std::to_string(i);
      write({make_event(day0 + i * sec, verb::create, "n", "pods", "p" + n,
                        "u" + n, "1")});
      ASSERT_TRUE(store_->flush() == caf::error{}) << "flush " << i;
      if (settle)
        wait_for_compactions();
    }
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
          && matches(q, summarize(s.ev))
          && allows(q.access, s.ev.ns, s.ev.resource, s.ev.group))
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

} // namespace kws::storage::test
