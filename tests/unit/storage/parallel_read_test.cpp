#include "storage/parallel_read.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <memory>
#include <string>

using namespace kws::storage;

namespace {

using ranges = std::vector<std::pair<size_t, size_t>>;

/// Checks that `r` covers [0, keys) in order without gaps or overlaps.
void expect_covers(const ranges& r, size_t keys) {
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.front().first, 0u);
  EXPECT_EQ(r.back().second, keys);
  for (size_t i = 1; i < r.size(); ++i)
    EXPECT_EQ(r[i].first, r[i - 1].second);
}

} // namespace

TEST(parallel_read_test, few_keys_stay_on_one_reader) {
  EXPECT_EQ(split_reads(0, 4), (ranges{{0, 0}}));
  EXPECT_EQ(split_reads(17, 4), (ranges{{0, 17}}));
  EXPECT_EQ(split_reads(2 * min_keys_per_reader - 1, 4),
            (ranges{{0, 2 * min_keys_per_reader - 1}}));
}

TEST(parallel_read_test, many_keys_split_evenly_up_to_the_readers) {
  auto r = split_reads(1000, 4);
  expect_covers(r, 1000);
  EXPECT_EQ(r, (ranges{{0, 250}, {250, 500}, {500, 750}, {750, 1000}}));
  // 200 keys give three readers of at least 64, not four of 50.
  r = split_reads(200, 4);
  expect_covers(r, 200);
  ASSERT_EQ(r.size(), 3u);
  for (auto [b, e] : r)
    EXPECT_GE(e - b, min_keys_per_reader);
  // No readers configured still reads, on the caller.
  EXPECT_EQ(split_reads(1000, 0), (ranges{{0, 1000}}));
  EXPECT_EQ(split_reads(1000, 1), (ranges{{0, 1000}}));
}

TEST(parallel_read_test, every_key_gets_its_own_value_or_not_found) {
  auto dir = kws::storage::test::test_dir();
  std::filesystem::remove_all(dir);
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir.string(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db{raw};
  // Even keys exist, odd ones do not; sorted, as the callers pass them.
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "k%05d", i);
    names.emplace_back(key);
    if (i % 2 == 0) {
      ASSERT_TRUE(db->Put({}, names.back(), "v" + names.back()).ok());
    }
  }
  ASSERT_TRUE(db->Flush({}).ok());
  std::vector<rocksdb::Slice> keys(names.begin(), names.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  parallel_multi_get(db.get(), {}, db->DefaultColumnFamily(), keys, values,
                     statuses, 4);
  for (size_t i = 0; i < names.size(); ++i) {
    if (i % 2 == 0) {
      ASSERT_TRUE(statuses[i].ok()) << names[i];
      EXPECT_EQ(values[i].ToString(), "v" + names[i]);
    } else {
      EXPECT_TRUE(statuses[i].IsNotFound()) << names[i];
    }
  }
  db.reset();
  std::filesystem::remove_all(dir);
}
