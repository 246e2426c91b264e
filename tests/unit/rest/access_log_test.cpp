// The access log's lines: what they say, how they escape what clients send,
// and which requests they leave out.
#include "rest/access_log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kws::rest {
namespace {

using namespace std::chrono_literals;

access_entry query() {
  access_entry e;
  e.time_ns = 1'764'152'280'123'456'789; // 2025-11-26T10:18:00.123Z
  e.remote = "10.1.2.3";
  e.method = "GET";
  e.target = "/api/v1/events?namespace=default&limit=5";
  e.status = 200;
  e.bytes = 1834;
  e.duration = 12'345'678ns;
  return e;
}

TEST(access_log_test, text_line_has_every_field) {
  EXPECT_EQ(format_text(query()),
            "2025-11-26T10:18:00.123Z access 10.1.2.3 "
            R"("GET /api/v1/events?namespace=default&limit=5" 200 1834 )"
            "12.346ms -");
  auto e = query();
  e.caller = "system:serviceaccount:sre:mcp";
  e.duration = 0ns;
  EXPECT_TRUE(
    format_text(e).ends_with(" 0.000ms system:serviceaccount:sre:mcp"));
}

TEST(access_log_test, text_line_of_an_unparsed_request) {
  access_entry e;
  e.time_ns = 0;
  e.status = 431;
  EXPECT_EQ(format_text(e),
            R"(1970-01-01T00:00:00.000Z access - "-" 431 0 0.000ms -)");
}

TEST(access_log_test, text_line_escapes_what_could_forge_a_line) {
  auto e = query();
  e.target = "/x?q=\"a\\b\"\r\n2025 fake line\t\x01\x7f\xff\xc3\xa9";
  auto line = format_text(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find(R"("GET /x?q=\"a\\b\"\x0d\x0a2025 fake line)"
                      R"(\x09\x01\x7f\xff\xc3\xa9" 200)"),
            std::string::npos)
    << line;
}

TEST(access_log_test, json_line_has_every_member) {
  auto line = format_json(query());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto doc = nlohmann::json::parse(line);
  EXPECT_EQ(doc["time"], "2025-11-26T10:18:00.123Z");
  EXPECT_EQ(doc["level"], "info");
  EXPECT_EQ(doc["logger"], "access");
  EXPECT_EQ(doc["message"], "GET /api/v1/events?namespace=default&limit=5 200");
  EXPECT_EQ(doc["remote"], "10.1.2.3");
  EXPECT_EQ(doc["method"], "GET");
  EXPECT_EQ(doc["target"], "/api/v1/events?namespace=default&limit=5");
  EXPECT_EQ(doc["status"], 200);
  EXPECT_EQ(doc["bytes"], 1834);
  EXPECT_DOUBLE_EQ(doc["durationMs"].get<double>(), 12.346);
  EXPECT_EQ(doc["caller"], "");
  EXPECT_EQ(doc.size(), 11u);
}

TEST(access_log_test, json_line_stays_valid_for_any_bytes) {
  auto e = query();
  e.method = "G\"ET";
  e.target = std::string{"/x?q=\"a\\b\"\r\n\t\x01\x7f"} + '\0'
    + "\xff\xc3\xa9\xc3\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82";
  e.caller = "\x80";
  auto line = format_json(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  nlohmann::json doc;
  ASSERT_NO_THROW(doc = nlohmann::json::parse(line)) << line;
  EXPECT_EQ(doc["method"], "G\"ET");
  // Each byte outside a well-formed sequence is one U+FFFD; é stays.
  const std::string bad = "\xef\xbf\xbd";
  EXPECT_EQ(doc["target"],
            std::string{"/x?q=\"a\\b\"\r\n\t\x01\x7f"} + '\0' + bad + "\xc3\xa9"
              + bad + bad + bad + bad + bad + bad + bad + bad + bad + bad);
  EXPECT_EQ(doc["caller"], bad);
}

TEST(access_log_test, probes_are_logged_only_when_they_fail) {
  auto e = query();
  for (auto path :
       {"/health", "/healthz", "/livez", "/readyz", "/readyz?verbose=1"}) {
    e.target = path;
    e.status = 200;
    EXPECT_FALSE(should_log(e)) << path;
    e.status = 503;
    EXPECT_TRUE(should_log(e)) << path;
    e.status = 405;
    EXPECT_TRUE(should_log(e)) << path;
  }
  e.status = 200;
  for (auto path : {"/metrics", "/api/v1/events", "/healthz/", "/readyz/x"}) {
    e.target = path;
    EXPECT_TRUE(should_log(e)) << path;
  }
  EXPECT_TRUE(should_log(access_entry{}));
}

} // namespace
} // namespace kws::rest
