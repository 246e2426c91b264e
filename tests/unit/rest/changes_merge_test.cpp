// A hub's /changes without a cluster: every cluster's entries in one
// ranking (spec changes and deletes, then Warnings, then the most recent),
// each naming its cluster, cut at the limit; a failed answer is the answer.
#include "rest/changes_merge.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kws::rest {
namespace {

using json = nlohmann::json;

json entry(const std::string& name, const std::string& cls, int deletes,
           int warnings, const std::string& when) {
  return {{"namespace", "shop"},
          {"resourceName", name},
          {"verbs", {{"create", 0}, {"update", 1}, {"delete", deletes}}},
          {"changeClasses", {cls}},
          {"lastChanged", when},
          {"patch", {{{"op", "replace"}, {"path", "/x"}, {"value", 0.25}}}},
          {"events", {{"Warning", warnings}, {"Normal", 0}}}};
}

cluster_answer answer(const std::string& cluster, const json& entries,
                      bool more = false) {
  http_response res;
  res.body = entries.dump();
  res.headers["X-Has-More"] = more ? "true" : "false";
  return {cluster, res};
}

std::vector<std::string> order(const http_response& res) {
  std::vector<std::string> out;
  for (const auto& e : json::parse(res.body))
    out.push_back(e["cluster"].get<std::string>() + "/"
                  + e["resourceName"].get<std::string>());
  return out;
}

TEST(changes_merge, ranks_every_clusters_entries_as_one) {
  auto eu
    = answer("eu",
             json::array({
               entry("spec-old", "spec", 0, 0, "2026-01-01T10:00:00Z"),
               entry("status-warned", "status", 0, 3, "2026-01-01T09:00:00Z"),
               entry("status-new", "status", 0, 0, "2026-01-01T12:00:00.5Z"),
             }));
  auto us
    = answer("us",
             json::array({
               entry("deleted", "status", 1, 0, "2026-01-01T11:00:00Z"),
               entry("status-mid", "status", 0, 0, "2026-01-01T12:00:00Z"),
             }));
  auto res = merge_changes({eu, us}, 10);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(
    order(res),
    (std::vector<std::string>{"us/deleted", "eu/spec-old", "eu/status-warned",
                              "eu/status-new", "us/status-mid"}));
  EXPECT_EQ(res.headers["X-Total-Count"], "5");
  EXPECT_EQ(res.headers["X-Has-More"], "false");
  // `cluster` leads; the rest of the entry is as its cluster gave it.
  EXPECT_TRUE(res.body.starts_with(R"([{"cluster":"us","changeClasses":)"))
    << res.body;
  auto first = json::parse(res.body)[0];
  first.erase("cluster");
  EXPECT_EQ(first, json::parse(us.response.body)[0]);
}

TEST(changes_merge, the_limit_cuts_and_says_there_is_more) {
  auto eu = answer(
    "eu", json::array({entry("a", "spec", 0, 0, "2026-01-01T10:00:00Z")}));
  auto us = answer(
    "us", json::array({entry("b", "spec", 0, 0, "2026-01-01T11:00:00Z")}));
  auto res = merge_changes({eu, us}, 1);
  EXPECT_EQ(order(res), (std::vector<std::string>{"us/b"}));
  EXPECT_EQ(res.headers["X-Has-More"], "true");
  EXPECT_EQ(res.headers.count("X-Continue"), 0u);
  res = merge_changes({eu, answer("us", json::array(), true)}, 5);
  EXPECT_EQ(order(res), (std::vector<std::string>{"eu/a"}));
  EXPECT_EQ(res.headers["X-Has-More"], "true") << "a cluster had more";
}

TEST(changes_merge, a_failed_answer_is_the_answer) {
  auto ok = answer("eu", json::array());
  http_response bad;
  bad.status = 400;
  bad.body = R"({"error":"start must be RFC 3339","parameter":"start"})";
  auto res = merge_changes({ok, {"us", bad}}, 5);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body, bad.body) << "a bad parameter is every cluster's";
  http_response down;
  down.status = 503;
  down.body = R"({"error":"the request was not answered"})";
  res = merge_changes({ok, {"us", down}}, 5);
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(json::parse(res.body)["error"],
            "cluster us: the request was not answered");
}

} // namespace
} // namespace kws::rest
