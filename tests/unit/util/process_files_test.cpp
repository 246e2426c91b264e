#include "util/process_files.hpp"

#include "tests/support/open_files_limit.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace {

TEST(process_files, the_soft_limit_rises_to_the_hard_limit) {
  kws::test::lowered_open_files_limit low{64};
  ASSERT_TRUE(low.ok());
  const auto& before = low.before();
  ASSERT_LT(rlim_t{64}, before.rlim_max) << "the hard limit is 64 here";
  auto raised = kws::process_files::raise_soft_limit();
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(raised, after.rlim_cur);
  EXPECT_EQ(after.rlim_max, before.rlim_max);
  if (before.rlim_max != RLIM_INFINITY)
    EXPECT_EQ(after.rlim_cur, before.rlim_max);
  else
    EXPECT_GT(after.rlim_cur, rlim_t{64});
  // Raised once, it stays where it is.
  EXPECT_EQ(kws::process_files::raise_soft_limit(), raised);
}

} // namespace
