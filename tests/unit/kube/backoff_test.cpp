#include "kube/backoff.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using kws::kube::backoff;

namespace {

struct backoff_test : ::testing::Test {
  backoff::clock::time_point t0 = backoff::clock::time_point{} + 1h;
};

} // namespace

TEST_F(backoff_test, doubles_from_800ms_without_jitter) {
  backoff b;
  std::vector<int64_t> got;
  for (int i = 0; i < 8; ++i)
    got.push_back(b.next(t0 + std::chrono::seconds{i}, 0.0).count());
  EXPECT_EQ(
    got,
    (std::vector<int64_t>{800, 1600, 3200, 6400, 12800, 25600, 30000, 30000}));
}

TEST_F(backoff_test, jitter_adds_up_to_one_base) {
  backoff b;
  EXPECT_EQ(b.next(t0, 0.5).count(), 1200);   // 800 + 0.5 * 800
  EXPECT_EQ(b.next(t0, 0.999).count(), 3198); // 1600 + 0.999 * 1600
  backoff capped;
  for (int i = 0; i < 10; ++i)
    capped.next(t0, 0.0);
  auto d = capped.next(t0, 0.99);
  EXPECT_GE(d, 30s);
  EXPECT_LT(d, 60s);
}

TEST_F(backoff_test, every_delay_stays_in_client_go_ranges) {
  std::mt19937_64 rng{42};
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  for (int round = 0; round < 200; ++round) {
    backoff b;
    int64_t base = 800;
    for (int i = 0; i < 10; ++i) {
      auto d = b.next(t0, unit(rng)).count();
      EXPECT_GE(d, base);
      EXPECT_LT(d, 2 * base);
      base = std::min<int64_t>(base * 2, 30000);
    }
  }
}

TEST_F(backoff_test, resets_after_two_healthy_minutes) {
  backoff b;
  b.next(t0, 0.0);
  b.next(t0 + 1s, 0.0);
  EXPECT_EQ(b.next(t0 + 2s, 0.0), 3200ms);
  // Less than 2 minutes since the last backoff started: keep growing.
  EXPECT_EQ(b.next(t0 + 2s + 119s, 0.0), 6400ms);
  // More than 2 minutes: start over.
  EXPECT_EQ(b.next(t0 + 2s + 119s + 121s, 0.0), 800ms);
  EXPECT_EQ(b.current_base(), 1600ms);
}

TEST_F(backoff_test, explicit_reset_and_custom_policy) {
  kws::kube::backoff_policy p;
  p.initial = 100ms;
  p.cap = 400ms;
  p.factor = 3.0;
  backoff b{p};
  EXPECT_EQ(b.next(t0, 0.0), 100ms);
  EXPECT_EQ(b.next(t0, 0.0), 300ms);
  EXPECT_EQ(b.next(t0, 0.0), 400ms);
  b.reset();
  EXPECT_EQ(b.next(t0, 0.0), 100ms);
}
