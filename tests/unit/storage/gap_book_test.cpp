// The coverage gaps kept in memory: their order and window, and that the
// store keeps them in step with the `meta` family: after a write with gaps,
// a downtime, a reopen, and retention dropping their day.
#include "storage/gap_book.hpp"

#include "rocks_store_fixture.hpp"

#include <gtest/gtest.h>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

namespace {

coverage_gap gap(const std::string& gr, int64_t start, int64_t end,
                 const std::string& reason = "relist") {
  coverage_gap g;
  g.group_resource = gr;
  g.start_ns = start;
  g.end_ns = end;
  g.reason = reason;
  return g;
}

std::vector<std::string> types_of(const std::vector<coverage_gap>& gaps) {
  std::vector<std::string> out;
  for (const auto& g : gaps)
    out.push_back(g.group_resource + "@" + std::to_string(g.start_ns));
  return out;
}

} // namespace

TEST(gap_book_test, the_window_holds_the_gaps_that_overlap_it_in_order) {
  gap_book book;
  book.add({gap("pods", 30, 40), gap("deployments.apps", 10, 20),
            gap("configmaps", 10, 50)});
  EXPECT_EQ(types_of(book.overlapping(0, 100)),
            (std::vector<std::string>{"configmaps@10", "deployments.apps@10",
                                      "pods@30"}));
  // Touching counts: a gap ending at the window's start, one starting at
  // its end.
  EXPECT_EQ(types_of(book.overlapping(20, 30)),
            (std::vector<std::string>{"configmaps@10", "deployments.apps@10",
                                      "pods@30"}));
  EXPECT_EQ(types_of(book.overlapping(41, 100)),
            (std::vector<std::string>{"configmaps@10"}));
  EXPECT_TRUE(book.overlapping(0, 9).empty());
  EXPECT_TRUE(book.overlapping(51, 100).empty());
}

TEST(gap_book_test, counts_the_gaps_of_a_type_in_a_window) {
  gap_book book;
  book.add({gap("deployments.apps", 10, 20),
            gap("deployments.example.com", 10, 20), gap("deploymentsx", 10, 20),
            gap("pods", 30, 40)});
  EXPECT_EQ(book.count(0, 100, ""), 4U);
  // A plural counts that plural of every group, nothing that only starts
  // with it.
  EXPECT_EQ(book.count(0, 100, "deployments"), 2U);
  EXPECT_EQ(book.count(0, 100, "deployments.apps"), 1U);
  EXPECT_EQ(book.count(0, 100, "pods"), 1U);
  EXPECT_EQ(book.count(21, 29, ""), 0U);
  EXPECT_EQ(book.count(35, 100, "pods"), 1U);
}

TEST(gap_book_test, the_same_gap_again_replaces_it_and_old_ones_go) {
  gap_book book;
  book.add({gap("pods", 10, 20, "relist")});
  book.add({gap("pods", 10, 20, "server down"), gap("pods", 10, 25)});
  ASSERT_EQ(book.size(), 2U);
  auto all = book.overlapping(0, 100);
  EXPECT_EQ(all[0].reason, "server down");
  EXPECT_EQ(book.forget_ending_before(21), 1U);
  ASSERT_EQ(book.size(), 1U);
  EXPECT_EQ(book.forget_ending_before(21), 0U);
  EXPECT_EQ(book.overlapping(0, 100)[0].end_ns, 25);
}

TEST_F(rocks_store_test, stored_gaps_are_answered_from_memory_in_step) {
  open();
  const int64_t t = day0 + 3600 * sec;
  auto res = store_->write({}, {{"pods", "7"}},
                           {gap("pods", t - 60 * sec, t - 30 * sec)});
  ASSERT_TRUE(res) << render(res.error());
  auto seen = store_->coverage(coverage_query{});
  ASSERT_TRUE(seen) << render(seen.error());
  ASSERT_EQ(seen->size(), 1U);
  EXPECT_EQ((*seen)[0].reason, "relist");
  // Read again from the family after a reopen, with a downtime added.
  open();
  auto down = store_->record_downtime(t + 600 * sec);
  ASSERT_TRUE(down) << render(down.error());
  ASSERT_EQ(down->size(), 1U);
  seen = store_->coverage(coverage_query{});
  ASSERT_TRUE(seen);
  ASSERT_EQ(seen->size(), 2U);
  EXPECT_EQ((*seen)[0].reason, "relist");
  EXPECT_EQ((*seen)[1].reason, "server down");
  auto counted = store_->count_gaps(gap_count_query{coverage_query{}, "pods"});
  ASSERT_TRUE(counted);
  EXPECT_EQ(*counted, 2U);
  // With a start, the time before a type was first watched counts too.
  counted = store_->count_gaps(
    gap_count_query{coverage_query{day0 - ns_per_day, t + 600 * sec}, ""});
  ASSERT_TRUE(counted);
  EXPECT_EQ(*counted, 3U);
  // A retention run that drops nothing leaves the coverage unchanged.
  auto changes = store_->coverage_changes();
  ASSERT_EQ(store_->drop_expired(t + ns_per_day, 14).value(), 0U);
  EXPECT_EQ(store_->coverage_changes(), changes);
  // Retention 14 days later drops the day the gaps ended in, and them.
  auto dropped = store_->drop_expired(t + 15 * ns_per_day, 14);
  ASSERT_TRUE(dropped) << render(dropped.error());
  EXPECT_GT(store_->coverage_changes(), changes);
  seen = store_->coverage(coverage_query{});
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen->empty());
  open();
  seen = store_->coverage(coverage_query{});
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen->empty()) << "the family and the memory agree";
}
