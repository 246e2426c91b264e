// The budget of answers the server holds: who starts at once, who waits,
// and in which order the waiting start.
#include "rest/answer_budget.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace kws::rest {
namespace {

struct answer_budget_test : ::testing::Test {
  std::vector<int> started;

  std::function<void()> request(int id) {
    return [this, id] { started.push_back(id); };
  }
};

TEST_F(answer_budget_test, requests_beyond_the_answer_count_wait_in_order) {
  answer_budget budget{answer_limits{2, 1000}};
  for (int id = 1; id <= 4; ++id)
    budget.acquire(request(id));
  EXPECT_EQ(started, (std::vector<int>{1, 2}));
  EXPECT_EQ(budget.answers(), 2U);
  EXPECT_EQ(budget.waiting(), 2U);
  budget.release(0);
  EXPECT_EQ(started, (std::vector<int>{1, 2, 3}));
  budget.release(0);
  budget.release(0);
  EXPECT_EQ(started, (std::vector<int>{1, 2, 3, 4}));
  budget.release(0);
  EXPECT_EQ(budget.answers(), 0U);
  EXPECT_EQ(budget.waiting(), 0U);
}

TEST_F(answer_budget_test, held_bytes_stop_new_answers_until_they_are_read) {
  answer_budget budget{answer_limits{10, 100}};
  budget.acquire(request(1));
  budget.hold(60);
  budget.acquire(request(2));
  budget.hold(60);
  // 120 bytes held: over the budget, the third waits although answers are
  // few.
  budget.acquire(request(3));
  EXPECT_EQ(started, (std::vector<int>{1, 2}));
  EXPECT_EQ(budget.bytes(), 120U);
  budget.release(60);
  // 60 held, below 100: the third starts.
  EXPECT_EQ(started, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(budget.bytes(), 60U);
}

TEST_F(answer_budget_test, one_answer_larger_than_the_budget_still_goes_out) {
  answer_budget budget{answer_limits{10, 100}};
  budget.acquire(request(1));
  budget.hold(5000);
  budget.acquire(request(2));
  EXPECT_EQ(started, (std::vector<int>{1}));
  budget.release(5000);
  EXPECT_EQ(started, (std::vector<int>{1, 2}));
}

TEST_F(answer_budget_test, a_request_waits_while_every_place_is_taken) {
  answer_budget budget{answer_limits{1, 1000}};
  budget.acquire(request(1));
  budget.acquire(request(2));
  budget.release(0);
  // 2 started and holds the one place; 3 waits even after 2 frees it,
  // until its turn comes.
  budget.acquire(request(3));
  EXPECT_EQ(started, (std::vector<int>{1, 2}));
  budget.release(0);
  EXPECT_EQ(started, (std::vector<int>{1, 2, 3}));
}

TEST_F(answer_budget_test, a_closed_budget_starts_nothing_more) {
  answer_budget budget{answer_limits{1, 1000}};
  budget.acquire(request(1));
  budget.acquire(request(2));
  budget.close();
  budget.release(0);
  budget.acquire(request(3));
  EXPECT_EQ(started, (std::vector<int>{1}));
  EXPECT_EQ(budget.waiting(), 0U);
}

} // namespace
} // namespace kws::rest
