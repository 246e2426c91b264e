// An online backup of the rocks_store taken while writes go on restores to
// a store that gives the same answers.
#include "rocks_store_fixture.hpp"
#include "storage/secret_digest.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

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
  // Its parent, the backup root, does not exist yet either.
  auto backup_dir = (dir_ / "backups" / "today").string();
  auto err = store_->backup(backup_dir, (dir_ / "backups").string());
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

TEST_F(rocks_store_test, a_backup_never_goes_into_an_existing_path) {
  open();
  ASSERT_TRUE(store_->write(
    {make_event(day0, verb::create, "ns", "pods", "a", "u", "1")}));
  auto taken = (dir_ / "taken").string();
  std::filesystem::create_directories(taken);
  std::ofstream{taken + "/keep"} << "mine";
  auto err = store_->backup(taken, dir_.string());
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::already_exists) << render(err);
  // What was there stays as it was.
  std::ifstream kept{taken + "/keep"};
  std::string text;
  kept >> text;
  EXPECT_EQ(text, "mine");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator{taken},
                          std::filesystem::directory_iterator{}),
            1);
  // A file is not a place for one either.
  err = store_->backup(taken + "/keep", dir_.string());
  EXPECT_EQ(err, ec::already_exists) << render(err);
}

TEST_F(rocks_store_test, a_backup_needs_its_parent_and_stays_inside_the_root) {
  open();
  ASSERT_TRUE(store_->write(
    {make_event(day0, verb::create, "ns", "pods", "a", "u", "1")}));
  auto root = dir_ / "backups";
  // Only the root itself is made; a deeper missing parent is a mistake.
  auto err = store_->backup((root / "daily" / "x").string(), root.string());
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::invalid_argument) << render(err);
  EXPECT_NE(render(err).find("parent directory " + (root / "daily").string()
                             + " of dest does not exist"),
            std::string::npos)
    << render(err);
  EXPECT_FALSE(std::filesystem::exists(root / "daily"));
  // A symbolic link inside the root that leads out of it.
  auto outside = dir_ / "elsewhere";
  std::filesystem::create_directories(outside);
  std::filesystem::create_directories(root);
  std::filesystem::create_directory_symlink(outside, root / "out");
  err = store_->backup((root / "out" / "x").string(), root.string());
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::invalid_argument) << render(err);
  EXPECT_NE(render(err).find("through a symbolic link"), std::string::npos)
    << render(err);
  EXPECT_FALSE(std::filesystem::exists(outside / "x"));
  // Its own subdirectory is fine.
  std::filesystem::create_directories(root / "daily");
  err = store_->backup((root / "daily" / "x").string(), root.string());
  EXPECT_FALSE(err) << render(err);
  EXPECT_TRUE(std::filesystem::exists(root / "daily" / "x" / "CURRENT"));
}

// Records given after a backup was taken are not in the copy: a restore
// with a higher first id gives new records ids of their own.
TEST_F(rocks_store_test, a_restore_gives_new_records_ids_above_its_first_id) {
  open();
  write({make_event(day0, verb::create, "x", "pods", "a", "ua", "1")});
  auto backup_dir = (dir_ / "backups" / "k").string();
  ASSERT_FALSE(store_->backup(backup_dir, (dir_ / "backups").string()));
  write({make_event(day0, verb::create, "x", "pods", "b", "ub", "1")});
  ASSERT_EQ(store_->next_sequence(), 3u);
  auto low = (dir_ / "restored-low").string();
  ASSERT_FALSE(rocks_store::restore(backup_dir, low));
  EXPECT_EQ(open(options("restored-low")).next_sequence(), 2u)
    << "without a first id the copy continues after its newest";
  auto high = (dir_ / "restored-high").string();
  ASSERT_FALSE(rocks_store::restore(backup_dir, high, 7'000));
  auto& restored = open(options("restored-high"));
  EXPECT_EQ(restored.next_sequence(), 7'000u);
  auto res = restored.write(
    {make_event(day0, verb::create, "x", "pods", "c", "uc", "1")});
  ASSERT_TRUE(res) << render(res.error());
  EXPECT_EQ(res->ids, std::vector<std::string>{format_id(7'000)});
}

TEST_F(rocks_store_test,
       the_secret_digest_key_is_kept_and_travels_in_a_backup) {
  open();
  auto key = store_->secret_digest_key();
  ASSERT_TRUE(key) << render(key.error());
  EXPECT_EQ(key->size(), secret_digest_key_bytes);
  auto again = store_->secret_digest_key();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *key);
  // A restart finds it.
  open();
  again = store_->secret_digest_key();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *key);
  // So does a store restored from a backup.
  auto backup_dir = (dir_ / "backups" / "k").string();
  ASSERT_FALSE(store_->backup(backup_dir, (dir_ / "backups").string()));
  auto restored_dir = (dir_ / "restored").string();
  ASSERT_FALSE(rocks_store::restore(backup_dir, restored_dir));
  auto restored = open(options("restored")).secret_digest_key();
  ASSERT_TRUE(restored);
  EXPECT_EQ(*restored, *key);
  // Another store has its own.
  auto other = open(options("other")).secret_digest_key();
  ASSERT_TRUE(other);
  EXPECT_NE(*other, *key);
}
