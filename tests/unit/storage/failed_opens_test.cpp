// A read during which the store could not open one of its files answers
// with an error, never with part of the answer: this RocksDB has been seen
// to end such a scan early with an OK status.
#include "storage/failed_opens.hpp"

#include "rocks_store_fixture.hpp"
#include "tests/support/open_files_limit.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <vector>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

namespace {

/// Takes every file descriptor the process may still open (under a limit
/// lowered to `most`), and gives them back at its end.
class descriptors_taken {
public:
  explicit descriptors_taken(rlim_t most, size_t spare = 0) : low_{most} {
    if (!low_.ok())
      return;
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        break;
      fds_.push_back(fd);
    }
    for (size_t i = 0; i < spare && !fds_.empty(); ++i) {
      ::close(fds_.back());
      fds_.pop_back();
    }
  }
  descriptors_taken(const descriptors_taken&) = delete;
  descriptors_taken& operator=(const descriptors_taken&) = delete;
  ~descriptors_taken() {
    for (int fd : fds_)
      ::close(fd);
  }

  bool ok() const { return low_.ok() && !fds_.empty(); }

private:
  kws::test::lowered_open_files_limit low_;
  std::vector<int> fds_;
};

TEST(failed_open_counter, counts_opens_that_fail_but_not_missing_files) {
  const auto dir = test_dir();
  std::filesystem::create_directories(dir);
  const auto file = (dir / "table").string();
  std::ofstream{file} << "bytes";
  auto files = count_failed_opens();
  auto& fs = *files.counter;
  std::unique_ptr<rocksdb::FSRandomAccessFile> handle;
  ASSERT_TRUE(fs.NewRandomAccessFile(file, {}, &handle, nullptr).ok());
  handle.reset();
  EXPECT_FALSE(
    fs.NewRandomAccessFile(file + ".missing", {}, &handle, nullptr).ok());
  EXPECT_EQ(fs.failures(), 0u);
  {
    descriptors_taken taken{256};
    ASSERT_TRUE(taken.ok());
    EXPECT_FALSE(fs.NewRandomAccessFile(file, {}, &handle, nullptr).ok());
  }
  EXPECT_EQ(fs.failures(), 1u);
  EXPECT_NE(fs.last_failure().find("Too many open files"), std::string::npos)
    << fs.last_failure();
  ASSERT_TRUE(fs.NewRandomAccessFile(file, {}, &handle, nullptr).ok());
  EXPECT_EQ(fs.failures(), 1u);
  std::filesystem::remove_all(dir);
}

TEST_F(rocks_store_test, a_read_that_cannot_open_a_file_fails_whole) {
  // Many small records files, more than the store keeps open, so reads
  // open them again and again.
  constexpr int flushes = 60;
  auto opts = options();
  opts.open_files = 20;
  open(opts);
  ASSERT_NO_FATAL_FAILURE(write_one_per_flush(flushes, false));
  wait_for_compactions();
  event_query all;
  all.limit = 10;
  history_query one;
  one.ns = "n";
  one.resource = "pods";
  one.name = "p" + std::to_string(flushes - 1);
  changes_query summary;
  summary.window.limit = 1000;
  int failed = 0;
  // UndefinedBehaviorSanitizer checks an error's dynamic type through a
  // pipe the first time it meets the type, and with no descriptor left it
  // cannot open one; it meets it here first.
  EXPECT_NE(render(caf::make_error(ec::storage_failure, std::string{"none"})),
            "");
  // With no descriptor left RocksDB reports the failed open itself; with a
  // few left, some files open and some not, and this RocksDB has answered
  // verify and a page with some records missing and no error.
  for (size_t spare = 0; spare <= 8; ++spare) {
    SCOPED_TRACE(testing::Message() << spare << " descriptors left");
    open(opts);
    descriptors_taken taken{256, spare};
    ASSERT_TRUE(taken.ok());
    if (auto report = store_->verify()) {
      EXPECT_EQ(report->records, uint64_t{flushes});
      EXPECT_TRUE(report->problems.empty());
    } else {
      ++failed;
    }
    if (auto page = store_->query(all))
      EXPECT_EQ(page->records.size(), all.limit);
    else
      ++failed;
    if (auto history = store_->history(one))
      EXPECT_EQ(history->watch_events.size(), 1u);
    else
      ++failed;
    if (auto changes = store_->changes(summary))
      EXPECT_EQ(changes->count, uint64_t{flushes});
    else
      ++failed;
  }
  // The premise: reads needed files they could not open.
  EXPECT_GT(failed, 0);
  // With descriptors back, every answer is whole.
  expect_consistent(flushes);
  all.limit = 100;
  EXPECT_EQ(all_pages(all).size(), size_t{flushes});
}

} // namespace
