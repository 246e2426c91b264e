#include "storage/parallel_read.hpp"

#include <gtest/gtest.h>

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

TEST(parallel_read_test, a_few_keys_are_read_one_part_each) {
  EXPECT_EQ(read_parts(3, 4), (ranges{{0, 1}, {1, 2}, {2, 3}}));
  auto r = read_parts(min_keys_per_reader - 1, 4);
  expect_covers(r, min_keys_per_reader - 1);
  EXPECT_EQ(r.size(), min_keys_per_reader - 1);
  // Without helpers, or with enough keys to split, as split_reads.
  EXPECT_EQ(read_parts(3, 1), (ranges{{0, 3}}));
  EXPECT_EQ(read_parts(1, 4), (ranges{{0, 1}}));
  EXPECT_EQ(read_parts(min_keys_per_reader, 4),
            split_reads(min_keys_per_reader, 4));
  EXPECT_EQ(read_parts(1000, 4), split_reads(1000, 4));
}
