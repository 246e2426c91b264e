#include "util/log_text.hpp"

#include <gtest/gtest.h>

namespace kws {
namespace {

const std::string replacement = "\xef\xbf\xbd";

TEST(log_text_test, times_have_milliseconds_in_utc) {
  EXPECT_EQ(format_log_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_log_time(1'764'152'280'999'999'999),
            "2025-11-26T10:18:00.999Z");
  EXPECT_EQ(format_log_time(-1), "1969-12-31T23:59:59.999Z");
}

TEST(log_text_test, well_formed_utf8_stays) {
  for (std::string s : {"", "plain", "caf\xc3\xa9", "\xe2\x9c\x93",
                        "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"})
    EXPECT_EQ(valid_utf8(s), s);
}

TEST(log_text_test, each_stray_byte_becomes_one_replacement) {
  EXPECT_EQ(valid_utf8(std::string{"a\xff"} + "b"), "a" + replacement + "b");
  EXPECT_EQ(valid_utf8("\x80\xbf"), replacement + replacement);
  EXPECT_EQ(valid_utf8("\xc0\xaf"), replacement + replacement); // overlong
  EXPECT_EQ(valid_utf8("\xe0\x80\xaf"),
            replacement + replacement + replacement);
  EXPECT_EQ(valid_utf8("\xed\xa0\x80"),
            replacement + replacement + replacement);
  EXPECT_EQ(valid_utf8("\xf4\x90\x80\x80"),
            replacement + replacement + replacement + replacement);
  EXPECT_EQ(valid_utf8("x\xe2\x9c"), "x" + replacement + replacement);
}

TEST(log_text_test, json_strings_escape_quotes_and_control_bytes) {
  EXPECT_EQ(quote_json_bytes("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(quote_json_bytes(std::string{"\0", 1}), R"("\u0000")");
  EXPECT_EQ(quote_json_bytes("\xff"), "\"" + replacement + "\"");
}

} // namespace
} // namespace kws
