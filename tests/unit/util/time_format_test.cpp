#include "util/time_format.hpp"

#include "util/errors.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace kws;

namespace {

constexpr int64_t sec = 1'000'000'000;

} // namespace

TEST(time_format_test, formats_whole_seconds_without_fraction) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1'795'688'280 * sec), "2026-11-26T10:18:00Z");
}

TEST(time_format_test, formats_fractions_without_trailing_zeros) {
  EXPECT_EQ(format_rfc3339(500'000'000), "1970-01-01T00:00:00.5Z");
  EXPECT_EQ(format_rfc3339(123'456'789), "1970-01-01T00:00:00.123456789Z");
}

TEST(time_format_test, formats_times_before_the_epoch) {
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_rfc3339(-86'400 * sec), "1969-12-31T00:00:00Z");
}

TEST(time_format_test, parses_utc_and_offsets) {
  auto utc = parse_rfc3339("2026-11-26T10:04:40Z");
  ASSERT_TRUE(utc);
  EXPECT_EQ(*utc, 1'795'687'480 * sec);
  auto plus = parse_rfc3339("2026-11-26T12:04:40+02:00");
  ASSERT_TRUE(plus);
  EXPECT_EQ(*plus, *utc);
  auto minus = parse_rfc3339("2026-11-26T04:34:40-05:30");
  ASSERT_TRUE(minus);
  EXPECT_EQ(*minus, *utc);
  // A '+' that a query string decoded to a space.
  auto space = parse_rfc3339("2026-11-26T12:04:40 02:00");
  ASSERT_TRUE(space);
  EXPECT_EQ(*space, *utc);
  auto lower = parse_rfc3339("2026-11-26t10:04:40z");
  ASSERT_TRUE(lower);
  EXPECT_EQ(*lower, *utc);
}

TEST(time_format_test, parses_fractions_and_truncates_beyond_nanoseconds) {
  auto a = parse_rfc3339("1970-01-01T00:00:00.5Z");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 500'000'000);
  auto b = parse_rfc3339("1970-01-01T00:00:00.1234567891234Z");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, 123'456'789);
}

TEST(time_format_test, round_trips) {
  for (int64_t ns :
       {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1'795'688'280'123'000'000},
        int64_t{951'782'400} * sec /* 2000-02-29 */}) {
    auto back = parse_rfc3339(format_rfc3339(ns));
    ASSERT_TRUE(back) << ns;
    EXPECT_EQ(*back, ns);
  }
}

TEST(time_format_test, rejects_malformed_times) {
  for (const char* bad :
       {"", "2026-11-26", "2026-11-26T10:04:40", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-26T24:00:00Z",
        "2026-11-26T10:60:00Z", "2026-11-26T10:04:40.Z",
        "2026-11-26T10:04:40+2:00", "2026-11-26T10:04:40Zjunk",
        "26-11-26T10:04:40Z", "yesterday", "1500-01-01T00:00:00Z",
        "9999-01-01T00:00:00Z"}) {
    auto parsed = parse_rfc3339(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error(), ec::parse_error) << bad;
  }
}

TEST(time_format_test, clamped_parse_bounds_years_outside_the_range) {
  auto late = parse_rfc3339_clamped("9999-12-31T23:59:59Z");
  ASSERT_TRUE(late);
  EXPECT_EQ(*late, std::numeric_limits<int64_t>::max());
  auto early = parse_rfc3339_clamped("1000-01-01T00:00:00+02:00");
  ASSERT_TRUE(early);
  EXPECT_EQ(*early, std::numeric_limits<int64_t>::min());
  auto inside = parse_rfc3339_clamped("2026-11-26T10:04:40.5Z");
  ASSERT_TRUE(inside);
  EXPECT_EQ(*inside, *parse_rfc3339("2026-11-26T10:04:40.5Z"));
  // Only the year is forgiven: the rest must still be a time.
  for (const char* bad : {"9999-13-01T00:00:00Z", "9999-12-31T23:59:59",
                          "99999-12-31T23:59:59Z", "9999-02-29T00:00:00Z"})
    EXPECT_FALSE(parse_rfc3339_clamped(bad)) << bad;
}

TEST(time_format_test, accepts_leap_days) {
  EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z"));
  EXPECT_TRUE(parse_rfc3339("2000-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2100-02-29T00:00:00Z"));
}

TEST(time_format_test, day_index_floors) {
  EXPECT_EQ(day_index(0), 0);
  EXPECT_EQ(day_index(ns_per_day - 1), 0);
  EXPECT_EQ(day_index(ns_per_day), 1);
  EXPECT_EQ(day_index(-1), -1);
}

// The clamped bounds of an open-ended query are echoed back in answers.
TEST(time_format_test, formats_the_int64_bounds) {
  EXPECT_EQ(format_rfc3339(std::numeric_limits<int64_t>::min()),
            "1677-09-21T00:12:43.145224192Z");
  EXPECT_EQ(format_rfc3339(std::numeric_limits<int64_t>::max()),
            "2262-04-11T23:47:16.854775807Z");
}
