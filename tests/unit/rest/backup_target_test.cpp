// Where a backup may go: strictly inside backupRoot, decided on the text.
#include "rest/backup_target.hpp"

#include "util/errors.hpp"

#include <gtest/gtest.h>

namespace kws::rest {
namespace {

std::string target(std::string_view root, std::string_view dest) {
  auto t = backup_target(root, dest);
  return t ? *t : "error: " + render(t.error());
}

TEST(backup_target_test, a_relative_dest_goes_under_the_root) {
  EXPECT_EQ(target("/data/backups", "2026-12-04"), "/data/backups/2026-12-04");
  EXPECT_EQ(target("/data/backups/", "daily/2026-12-04/"),
            "/data/backups/daily/2026-12-04");
  EXPECT_EQ(target("/data/backups", "a//b"), "/data/backups/a/b");
}

TEST(backup_target_test, an_absolute_dest_must_lie_inside_the_root) {
  EXPECT_EQ(target("/data/backups", "/data/backups/x"), "/data/backups/x");
  for (const char* outside : {"/etc/cron.d", "/data/backups", "/data/backups/",
                              "/data/backupsx/y", "/data", "/"}) {
    auto t = backup_target("/data/backups", outside);
    ASSERT_FALSE(t) << outside << " -> " << *t;
    EXPECT_EQ(static_cast<ec>(t.error().code()), ec::invalid_argument);
    EXPECT_NE(
      render(t.error()).find("must lie inside backupRoot /data/backups"),
      std::string::npos)
      << render(t.error());
  }
}

TEST(backup_target_test, dot_segments_and_empty_names_are_refused) {
  for (const char* bad : {"../etc", "/data/backups/../../etc", "./x", "a/./b",
                          "a/..", "/data/backups/x/.."}) {
    auto t = backup_target("/data/backups", bad);
    ASSERT_FALSE(t) << bad << " -> " << *t;
    EXPECT_NE(render(t.error()).find(". or .. segments"), std::string::npos);
  }
  auto t = backup_target("/data/backups", "");
  ASSERT_FALSE(t);
  EXPECT_NE(render(t.error()).find("dest is needed"), std::string::npos);
  t = backup_target("/data/backups", std::string_view{"a\0b", 3});
  ASSERT_FALSE(t);
  EXPECT_NE(render(t.error()).find("NUL"), std::string::npos);
}

TEST(backup_target_test, the_error_names_the_parameter) {
  auto t = backup_target("/data/backups", "/tmp/x");
  ASSERT_FALSE(t);
  // The first context element is the parameter the 400 names.
  ASSERT_TRUE(t.error().context().match_element<std::string>(0));
  EXPECT_EQ(t.error().context().get_as<std::string>(0), "dest");
}

} // namespace
} // namespace kws::rest
