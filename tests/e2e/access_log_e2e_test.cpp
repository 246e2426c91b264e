// The access log of the real binary against the local control plane: a
// query's line carries its status, size and duration, probes that succeed
// are left out, `accessLog: false` turns it off, and `logFormat: json` makes
// every line of the process one JSON object.
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace kws::test {
namespace {

using namespace std::chrono_literals;

/// Few watchers, so that the server is ready soon.
constexpr auto small_config
  = "discoverCRDs: false\n"
    "resources:\n"
    "  - {group: \"\", version: v1, kind: Namespace, plural: namespaces, "
    "namespaced: false}\n";

constexpr auto query = "/api/v1/events?resourceType=namespaces&limit=5";

struct access_log_e2e : ::testing::Test {
  cluster_state cluster;
  std::filesystem::path dir;
  uint16_t port = 0;
  std::unique_ptr<server_process> server;

  void SetUp() override {
    cluster = load_cluster_state();
    auto info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir = std::filesystem::temp_directory_path()
      / ("kws-access-e2e-" + std::to_string(::getpid()) + "-" + info->name());
    std::filesystem::create_directories(dir);
  }

  void TearDown() override {
    if (server && server->running()) {
      EXPECT_EQ(server->terminate(30s), 0)
        << "the server's exit; log in " << log_path();
    }
    // Logs and stores stay for a failure's diagnosis only.
    if (!HasFailure())
      std::filesystem::remove_all(dir);
  }

  std::string log_path() const { return (dir / "server.log").string(); }

  void start(const std::string& config) {
    std::ofstream{dir / "resources.yaml"} << config;
    port = free_port();
    server = start_ready_server(cluster, dir.string(), port,
                                (dir / "resources.yaml").string());
    ASSERT_FALSE(HasFailure());
  }

  std::vector<std::string> log_lines() const {
    std::vector<std::string> lines;
    std::ifstream in{log_path()};
    for (std::string line; std::getline(in, line);)
      if (!line.empty())
        lines.push_back(std::move(line));
    return lines;
  }

  /// The first log line containing `text`, waiting for it up to 10 s (the
  /// line is written once the response is); empty when none came.
  std::string line_with(const std::string& text) const {
    std::string found;
    eventually(
      [&] {
        for (auto& line : log_lines())
          if (line.find(text) != std::string::npos) {
            found = line;
            return true;
          }
        return false;
      },
      10s);
    return found;
  }
};

TEST_F(access_log_e2e, a_query_has_a_text_line_with_its_duration) {
  start(small_config);
  auto res = http_get(port, query);
  ASSERT_EQ(res.status, 200) << res.body;
  auto line = line_with(std::string{"\"GET "} + query + "\"");
  ASSERT_FALSE(line.empty()) << "no access line; log in " << log_path();
  std::smatch m;
  static const std::regex format{
    R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z access 127\.0\.0\.1 )"
    R"("GET /api/v1/events\?resourceType=namespaces&limit=5" 200 (\d+) )"
    R"((\d+\.\d{3})ms -$)"};
  ASSERT_TRUE(std::regex_match(line, m, format)) << line;
  EXPECT_EQ(std::stoul(m[1].str()), res.body.size()) << line;
  EXPECT_GT(std::stod(m[2].str()), 0.0) << line;
  // A bad parameter is logged with its status; the probes that answered 200
  // (the readiness polls above) are not.
  EXPECT_EQ(http_get(port, "/api/v1/events?limit=abc").status, 400);
  EXPECT_FALSE(line_with(R"("GET /api/v1/events?limit=abc" 400 )").empty());
  for (auto& l : log_lines())
    EXPECT_EQ(l.find(R"("GET /readyz" 200)"), std::string::npos) << l;
}

TEST_F(access_log_e2e, access_log_false_turns_it_off) {
  start(std::string{small_config} + "accessLog: false\n");
  ASSERT_EQ(http_get(port, query).status, 200);
  EXPECT_EQ(http_get(port, "/api/v1/events?limit=abc").status, 400);
  ASSERT_EQ(server->terminate(30s), 0) << "log in " << log_path();
  for (auto& l : log_lines())
    EXPECT_EQ(l.find(" access "), std::string::npos) << l;
}

TEST_F(access_log_e2e, json_format_makes_every_line_one_object) {
  start(std::string{small_config} + "logFormat: json\n");
  auto res = http_get(port, query);
  ASSERT_EQ(res.status, 200) << res.body;
  auto line = line_with(R"("target":"/api/v1/events?resourceType=namespaces)");
  ASSERT_FALSE(line.empty()) << "no access line; log in " << log_path();
  rapidjson::Document access;
  access.Parse(line.c_str());
  ASSERT_FALSE(access.HasParseError()) << line;
  EXPECT_STREQ(access["logger"].GetString(), "access");
  EXPECT_STREQ(access["method"].GetString(), "GET");
  EXPECT_STREQ(access["target"].GetString(), query);
  EXPECT_EQ(access["status"].GetInt(), 200);
  EXPECT_EQ(access["bytes"].GetUint64(), res.body.size());
  ASSERT_TRUE(access["durationMs"].IsNumber()) << line;
  EXPECT_GT(access["durationMs"].GetDouble(), 0.0) << line;
  EXPECT_STREQ(access["caller"].GetString(), "");
  ASSERT_EQ(server->terminate(30s), 0) << "log in " << log_path();
  static const std::regex time{R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)"};
  bool listening = false;
  for (auto& l : log_lines()) {
    rapidjson::Document doc;
    doc.Parse(l.c_str());
    ASSERT_FALSE(doc.HasParseError()) << "not JSON: " << l;
    ASSERT_TRUE(doc.IsObject()) << l;
    for (auto member : {"time", "level", "logger", "message"})
      ASSERT_TRUE(doc.HasMember(member) && doc[member].IsString())
        << member << " in " << l;
    EXPECT_TRUE(std::regex_match(std::string{doc["time"].GetString()}, time))
      << l;
    std::string message = doc["message"].GetString();
    if (std::string{doc["logger"].GetString()} == "server"
        && message.find("Starting HTTP server on port") != std::string::npos)
      listening = true;
  }
  EXPECT_TRUE(listening) << "no JSON line of the default logger";
}

} // namespace
} // namespace kws::test
