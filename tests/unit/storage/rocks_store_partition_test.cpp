// The rocks_store's day partitions: retention drops exactly the expired
// days, each day keeps its records apart from its indexes, statistics and
// file layout per family, compaction, and days written by older layouts.
#include "raw_db.hpp"
#include "rocks_store_fixture.hpp"
#include "storage/key_codec.hpp"
#include "tests/support/open_files_limit.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <map>
#include <random>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

namespace {

/// `n` letters no compressor can shorten much.
std::string random_letters(size_t n, uint64_t seed) {
  std::string out;
  std::mt19937_64 rng(seed);
  for (size_t k = 0; k < n; ++k)
    out += static_cast<char>('a' + rng() % 26);
  return out;
}

} // namespace

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
      auto payload = random_letters(
        512, static_cast<uint64_t>(d) * 1000 + static_cast<uint64_t>(i));
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
  // One uid entry for the object's day, not one per record.
  EXPECT_EQ(index['u'], 1u);
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

TEST_F(rocks_store_test, memory_tells_memtables_from_tables_and_cache) {
  open();
  write({make_event(day0 + sec, verb::create, "n", "pods", "a", "ua", "1")});
  auto unflushed = store_->memory();
  EXPECT_GT(unflushed.memtables, 0u);
  EXPECT_EQ(unflushed.table_readers, 0u);
  ASSERT_TRUE(store_->flush() == caf::error{});
  history_query q;
  q.ns = "n";
  q.resource = "pods";
  q.name = "a";
  ASSERT_TRUE(store_->history(q));
  auto flushed = store_->memory();
  // The record now lives in a table file, read through the block cache.
  EXPECT_GT(flushed.table_readers + flushed.block_cache, 0u);
  EXPECT_GT(flushed.block_cache, 0u);
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
  // 7 + 7 + 8 entries of yesterday's three records (the Event links).
  EXPECT_EQ(raw_db{options().path}.write_whole_summaries(day_index(yesterday)),
            22u);
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
  wait_for_compactions();
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

TEST_F(rocks_store_test, bottom_level_blocks_compress_against_their_file) {
  open();
  // One incompressible payload in every record: a block holds about five
  // records, so without a dictionary each block stores it once more.
  const auto payload = random_letters(3000, 7);
  constexpr int per_flush = 100;
  // The day being written keeps LZ4 files; once the next day takes the
  // writes, the finished day is rewritten with zstd.
  for (int f = 0; f < 8; ++f) {
    std::vector<resource_event> batch;
    for (int i = 0; i < per_flush; ++i) {
      auto n = std::to_string(f * per_flush + i);
      auto ev = make_event(day0 + (f * per_flush + i) * sec, verb::create, "n",
                           "pods", "p" + n, "u" + n, "1");
      ev.record.insert(1, "\"blob\":\"" + payload + "\",");
      batch.push_back(std::move(ev));
    }
    write(batch);
    ASSERT_TRUE(store_->flush() == caf::error{});
    wait_for_compactions();
    ASSERT_FALSE(store_->compacting());
  }
  clock_ = day0 + ns_per_day + 3600 * sec;
  write({make_event(clock_, verb::create, "n", "pods", "next", "u-next", "1")});
  wait_for_compactions();
  ASSERT_FALSE(store_->compacting());
  store_.reset();
  raw_db raw{options().path};
  size_t bottom_files = 0;
  for (const auto& t : raw.tables(records_name(day0 / ns_per_day))) {
    if (t->compression_name != "ZSTD")
      continue;
    ++bottom_files;
    // The payload is stored about once per file: well under once per block.
    EXPECT_GT(t->num_data_blocks, 20u);
    EXPECT_LT(t->data_size, t->num_data_blocks * payload.size() / 4)
      << t->num_data_blocks << " blocks";
  }
  EXPECT_GE(bottom_files, 1u);
}

TEST_F(rocks_store_test, a_finished_day_is_rewritten_even_across_a_restart) {
  open();
  ASSERT_NO_FATAL_FAILURE(write_one_per_flush(3, false));
  wait_for_compactions();
  // The next day takes the writes, and the store stops at once: the
  // rewrite of the finished day may not have begun, or not ended.
  clock_ = day0 + ns_per_day + 3600 * sec;
  write({make_event(clock_, verb::create, "n", "pods", "next", "u-next", "1")});
  ASSERT_TRUE(store_->flush() == caf::error{});
  open();
  wait_for_compactions();
  ASSERT_FALSE(store_->compacting());
  expect_consistent(4);
  store_.reset();
  raw_db raw{options().path};
  const auto finished = raw.tables(records_name(day0 / ns_per_day));
  ASSERT_FALSE(finished.empty());
  for (const auto& t : finished)
    EXPECT_EQ(t->compression_name, "ZSTD");
  const auto written = raw.tables(records_name(day0 / ns_per_day + 1));
  ASSERT_FALSE(written.empty());
  for (const auto& t : written)
    EXPECT_EQ(t->compression_name, "LZ4");
}

TEST(rocks_options_test, open_files_stay_within_half_the_process_limit) {
  EXPECT_EQ(open_files_budget(20000), 10000);
  EXPECT_EQ(open_files_budget(1024), 512);
  EXPECT_EQ(open_files_budget(120), 60);
  EXPECT_EQ(open_files_budget(30), 20);
  EXPECT_EQ(open_files_budget(RLIM_INFINITY), -1);
  EXPECT_EQ(open_files_budget(uint64_t{1} << 40U), -1);
}

TEST(rocks_options_test, a_store_given_its_share_of_open_files_keeps_to_it) {
  store_options opts;
  opts.path = "unused";
  opts.open_files = 300;
  EXPECT_EQ(make_rocks_options(opts).db.max_open_files, 300);
  // RocksDB's own floor.
  opts.open_files = 5;
  EXPECT_EQ(make_rocks_options(opts).db.max_open_files, 20);
}

TEST_F(rocks_store_test,
       the_day_being_written_merges_its_files_past_a_quarter_of_the_budget) {
  kws::test::lowered_open_files_limit low{80};
  ASSERT_TRUE(low.ok());
  open();
  // Each flush is a records file, which the day being written keeps as it
  // is (it moves down unrewritten) until the day holds more than a quarter
  // of the store's budget: half of 80, so 10 files.
  constexpr int flushes = 300;
  ASSERT_NO_FATAL_FAILURE(write_one_per_flush(flushes, true));
  // Every file is read, and read again.
  expect_consistent(flushes);
  event_query all;
  all.limit = 100;
  EXPECT_EQ(all_pages(all).size(), size_t{flushes});
  store_.reset();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low.before()), 0);
  raw_db raw{options().path};
  const auto tables = raw.tables(records_name(day0 / ns_per_day));
  EXPECT_LE(tables.size(), 10u);
  for (const auto& t : tables)
    EXPECT_EQ(t->compression_name, "LZ4");
}
