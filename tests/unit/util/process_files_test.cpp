#include "util/process_files.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>

namespace {

TEST(process_files, the_soft_limit_rises_to_the_hard_limit) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  // Restored for the tests after this one, whatever its outcome.
  struct restore {
    rlimit limit;
    ~restore() { setrlimit(RLIMIT_NOFILE, &limit); }
  } guard{before};
  rlimit low = before;
  low.rlim_cur = std::min<rlim_t>(before.rlim_max, 64);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  ASSERT_LT(low.rlim_cur, before.rlim_max) << "the hard limit is 64 here";
  auto raised = kws::process_files::raise_soft_limit();
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(raised, after.rlim_cur);
  EXPECT_EQ(after.rlim_max, before.rlim_max);
  if (before.rlim_max != RLIM_INFINITY)
    EXPECT_EQ(after.rlim_cur, before.rlim_max);
  else
    EXPECT_GT(after.rlim_cur, low.rlim_cur);
  // Raised once, it stays where it is.
  EXPECT_EQ(kws::process_files::raise_soft_limit(), raised);
}

} // namespace
