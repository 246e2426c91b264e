#include "storage/read_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace kws::storage;
using namespace std::chrono_literals;

namespace {

/// Parts that wait for each other: each arrives, then waits until `parts`
/// have arrived. Only parts running side by side get through; a generous
/// limit turns a pool that runs them one by one into a failure, not a hang.
class rendezvous {
public:
  explicit rendezvous(size_t parts) : parts_(parts) {}

  void arrive() {
    std::unique_lock lock{mtx_};
    ++arrived_;
    threads_.insert(std::this_thread::get_id());
    cv_.notify_all();
    if (!cv_.wait_for(lock, 30s, [this] { return arrived_ >= parts_; }))
      timed_out_ = true;
  }

  bool met() const { return !timed_out_ && arrived_ == parts_; }
  size_t threads() const { return threads_.size(); }

private:
  const size_t parts_;
  std::mutex mtx_;
  std::condition_variable cv_;
  size_t arrived_ = 0;
  bool timed_out_ = false;
  std::set<std::thread::id> threads_;
};

/// The threads `pool.run` ran parts on.
std::set<std::thread::id> threads_of(read_pool& pool, size_t parts,
                                     std::chrono::microseconds slow_part) {
  std::mutex mtx;
  std::set<std::thread::id> ids;
  pool.run(
    parts,
    [&](size_t) {
      std::lock_guard guard{mtx};
      ids.insert(std::this_thread::get_id());
    },
    slow_part);
  return ids;
}

} // namespace

TEST(read_pool_test, every_part_runs_exactly_once) {
  read_pool pool{3};
  ASSERT_EQ(pool.helpers(), 3u);
  for (std::chrono::microseconds slow_part : {0us, 1us, 10'000'000us}) {
    std::vector<std::atomic<int>> runs(1000);
    pool.run(
      runs.size(), [&](size_t i) { runs[i].fetch_add(1); }, slow_part);
    for (size_t i = 0; i < runs.size(); ++i)
      ASSERT_EQ(runs[i].load(), 1) << "part " << i;
  }
  pool.run(0, [](size_t) { FAIL() << "no part to run"; });
}

TEST(read_pool_test, parts_run_side_by_side_on_the_caller_and_every_helper) {
  read_pool pool{3};
  rendezvous all{4};
  pool.run(4, [&](size_t) { all.arrive(); });
  EXPECT_TRUE(all.met());
  EXPECT_EQ(all.threads(), 4u);
}

TEST(read_pool_test, quick_parts_stay_on_the_caller) {
  read_pool pool{3};
  EXPECT_EQ(threads_of(pool, 100, 10s), std::set{std::this_thread::get_id()});
}

TEST(read_pool_test, helpers_take_the_parts_left_after_a_wait_for_the_disk) {
  // Blocks "read from the disk", as the parts say.
  std::atomic<uint64_t> disk = 0;
  read_pool pool{3, [&] { return disk.load(); }};
  // The first part is the caller's, slow (1 ms against 1 us) and reads
  // from the disk; the three left can only meet when the caller and two
  // helpers run them.
  rendezvous rest{3};
  const auto caller = std::this_thread::get_id();
  std::atomic<size_t> first_parts = 0;
  pool.run(
    4,
    [&](size_t i) {
      if (i == 0) {
        EXPECT_EQ(std::this_thread::get_id(), caller);
        std::this_thread::sleep_for(1ms);
        disk += 8;
        ++first_parts;
        return;
      }
      rest.arrive();
    },
    1us);
  EXPECT_EQ(first_parts.load(), 1u);
  EXPECT_TRUE(rest.met());
  EXPECT_EQ(rest.threads(), 3u);
}

TEST(read_pool_test, parts_slow_without_reading_the_disk_stay_on_the_caller) {
  std::atomic<uint64_t> disk = 0;
  read_pool pool{3, [&] { return disk.load(); }};
  std::mutex mtx;
  std::set<std::thread::id> ids;
  pool.run(
    4,
    [&](size_t) {
      // Slow like a thread that waits for a core, but nothing read.
      std::this_thread::sleep_for(1ms);
      std::lock_guard guard{mtx};
      ids.insert(std::this_thread::get_id());
    },
    1us);
  EXPECT_EQ(ids, std::set{std::this_thread::get_id()});
}

TEST(read_pool_test, without_helpers_the_caller_runs_every_part) {
  read_pool pool{0};
  EXPECT_EQ(pool.helpers(), 0u);
  EXPECT_EQ(threads_of(pool, 50, 0us), std::set{std::this_thread::get_id()});
}

TEST(read_pool_test, many_callers_share_the_helpers) {
  read_pool pool{2};
  std::atomic<uint64_t> sum = 0;
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int round = 0; round < 300; ++round)
        pool.run(8, [&](size_t i) { sum += i + 1; });
    });
  for (auto& t : callers)
    t.join();
  // Each run adds 1 + 2 + ... + 8 = 36.
  EXPECT_EQ(sum.load(), 4u * 300 * 36);
}
