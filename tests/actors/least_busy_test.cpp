// The HTTP HANDLER's choice among its INDEX actors.
#include "actors/least_busy.hpp"

#include <gtest/gtest.h>

namespace kws {
namespace {

TEST(least_busy, an_idle_pool_starts_at_the_first_worker) {
  least_busy pool{3};
  EXPECT_EQ(pool.acquire(), 0u);
  pool.release(0);
  // Requests one after another all go to the first worker.
  EXPECT_EQ(pool.acquire(), 0u);
}

TEST(least_busy, concurrent_requests_spread_over_the_workers) {
  least_busy pool{3};
  EXPECT_EQ(pool.acquire(), 0u);
  EXPECT_EQ(pool.acquire(), 1u);
  EXPECT_EQ(pool.acquire(), 2u);
  EXPECT_EQ(pool.acquire(), 0u);
  EXPECT_EQ(pool.in_flight(0), 2u);
  EXPECT_EQ(pool.in_flight(1), 1u);
  EXPECT_EQ(pool.in_flight(2), 1u);
}

TEST(least_busy, a_worker_stuck_on_a_slow_request_gets_no_more) {
  least_busy pool{2};
  auto slow = pool.acquire();
  // Quick requests come and go while the slow one is still running.
  for (int i = 0; i < 5; ++i) {
    auto quick = pool.acquire();
    EXPECT_NE(quick, slow);
    pool.release(quick);
  }
  pool.release(slow);
  EXPECT_EQ(pool.in_flight(slow), 0u);
}

TEST(least_busy, one_worker_takes_everything) {
  least_busy pool{1};
  EXPECT_EQ(pool.acquire(), 0u);
  EXPECT_EQ(pool.acquire(), 0u);
  EXPECT_EQ(pool.in_flight(0), 2u);
  pool.release(0);
  EXPECT_EQ(pool.in_flight(0), 1u);
}

} // namespace
} // namespace kws
