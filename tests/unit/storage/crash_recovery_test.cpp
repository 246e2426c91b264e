// Kills a writing process with SIGKILL and checks that reopening keeps every
// acknowledged batch, never half a batch, and consistent indexes.
#include "storage/rocks_store.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

namespace {

class crash_recovery_test : public testing::Test {
protected:
  void SetUp() override {
    dir_ = test_dir();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    std::error_code err;
    std::filesystem::remove_all(dir_, err);
  }

  /// Runs the writer until it acknowledged at least `min_acks` batches
  /// starting at `first`, kills it, and returns the last acknowledged batch.
  int64_t run_and_kill(uint32_t first, int min_acks) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      auto db = (dir_ / "db").string();
      auto fd = std::to_string(fds[1]);
      auto start = std::to_string(first);
      ::execl(KWS_CRASH_WRITER, KWS_CRASH_WRITER, db.c_str(), fd.c_str(),
              start.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    int64_t last = -1;
    int acks = 0;
    uint32_t b = 0;
    while (acks < min_acks && ::read(fds[0], &b, sizeof(b)) == sizeof(b)) {
      last = b;
      ++acks;
    }
    // Kill while it is in the middle of further batches.
    EXPECT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the writer exited on its own with status " << status;
    // Acknowledgements sent before the kill are still in the pipe.
    while (::read(fds[0], &b, sizeof(b)) == sizeof(b))
      last = b;
    ::close(fds[0]);
    return last;
  }

  std::filesystem::path dir_;
};

} // namespace

TEST_F(crash_recovery_test, kill_during_writes_keeps_every_acknowledged_batch) {
  uint32_t first = 0;
  for (int round = 0; round < 3; ++round) {
    const auto last_acked = run_and_kill(first, 40 + round * 10);
    ASSERT_GE(last_acked, static_cast<int64_t>(first) + 39);
    store_options opts;
    opts.path = (dir_ / "db").string();
    auto store = rocks_store::open(opts);
    ASSERT_TRUE(store) << render(store.error());
    auto report = store->verify();
    ASSERT_TRUE(report) << render(report.error());
    EXPECT_TRUE(report->problems.empty()) << report->problems.front();
    // Whole batches only, and ids without gaps.
    const uint64_t records = report->records;
    EXPECT_EQ(records % 25, 0u);
    EXPECT_EQ(store->next_sequence(), records + 1);
    const auto stored_batches = records / 25;
    EXPECT_GE(stored_batches, static_cast<uint64_t>(last_acked) + 1);
    // The checkpoint belongs to the newest stored batch.
    auto cp = store->checkpoint("pods");
    ASSERT_TRUE(cp);
    EXPECT_EQ(cp->resource_version, std::to_string(stored_batches - 1));
    // Every acknowledged batch is complete.
    for (int64_t b = 0; b <= last_acked; ++b) {
      event_query q;
      q.uid = "batch-" + std::to_string(b);
      auto page = store->query(q);
      ASSERT_TRUE(page);
      EXPECT_EQ(page->records.size(), 25u) << "batch " << b;
    }
    first = static_cast<uint32_t>(stored_batches);
  }
}
