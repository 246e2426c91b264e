// The MCP tools as pure code: argument validation naming the argument, the
// REST queries each call makes, renders from canned REST answers, capping
// with a cursor that resumes exactly, and the resource URIs.
#include "rest/mcp/catalog.hpp"
#include "rest/mcp/tool_support.hpp"
#include "rest/mcp/tools.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

namespace kws::mcp {
namespace {

using json = nlohmann::json;

constexpr int64_t now = 1'764'800'000'000'000'000; // 2025-12-03T22:13:20Z
constexpr int64_t hour = 3'600'000'000'000;

tool_outcome call(const std::string& name, const json& args,
                  call_context ctx = {now}) {
  const auto* t = find_tool(name);
  EXPECT_NE(t, nullptr) << name;
  rapidjson::Document doc;
  auto text = args.dump();
  doc.Parse(text.c_str());
  return t->plan(doc, ctx);
}

std::string error_of(const tool_outcome& out) {
  if (const auto* r = std::get_if<tool_result>(&out); r && r->is_error)
    return r->error_text;
  return "(no error)";
}

std::map<std::string, std::string> params_of(const http_request& req) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < req.query_names.size(); ++i)
    out[req.query_names[i]] = req.query_values[i];
  return out;
}

http_response ok(const json& body,
                 std::map<std::string, std::string> headers = {}) {
  http_response res;
  res.body = body.dump();
  res.headers = std::move(headers);
  return res;
}

json render(const tool_outcome& out, const std::vector<http_response>& in) {
  const auto& plan = std::get<tool_plan>(out);
  auto r = plan.render(in);
  EXPECT_FALSE(r.is_error) << r.error_text;
  return json::parse(r.structured);
}

TEST(mcp_args, bad_arguments_name_the_argument) {
  struct bad_case {
    std::string tool;
    json args;
    std::string says;
  };
  for (const auto& c : std::vector<bad_case>{
         {"check_pod_issues", json::object(),
          "argument start_time: is required"},
         {"check_pod_issues",
          {{"start_time", "yesterday"}, {"end_time", "1h"}},
          "argument start_time: expected an RFC 3339 time"},
         {"check_pod_issues",
          {{"start_time", "1h"}, {"end_time", "2h"}},
          "argument start_time: is after end_time"},
         {"check_pod_issues",
          {{"start_time", "2h"}, {"end_time", "1h"}, {"namespace", 3}},
          "argument namespace: expected a string, got a number"},
         {"investigate_pod_startup",
          {{"start_time", "2h"},
           {"end_time", "1h"},
           {"namespace", "a"},
           {"pod_name", "../x"}},
          "argument pod_name: \"../x\" is not a name"},
         {"what_changed", {{"window", "-5m"}}, "argument window:"},
         {"what_changed", {{"limit", 0}}, "argument limit: expected a whole"},
         {"what_changed", {{"limit", 1001}}, "argument limit:"},
         {"what_changed",
          {{"includeStatus", "yes"}},
          "argument includeStatus: expected true or false"},
         {"what_changed",
          {{"resourceTypes",
            {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}}},
          "argument resourceTypes: name at most 10"},
         {"what_changed",
          {{"resourceTypes", {"pods", "nodes"}},
           {"cursor", encode_cursor({"tok", 0})}},
          "argument cursor: answers about several types do not page"},
         {"what_changed", {{"cursor", "!!"}}, "argument cursor:"},
         {"list_changes",
          {{"start", "2026-13-01T00:00:00Z"}},
          "argument start:"},
         {"diff_versions",
          {{"namespace", "a"}, {"resourceType", "pods"}},
          "argument name: is required"},
         {"events_for",
          {{"namespace", "a"},
           {"resourceType", "pods"},
           {"name", "b"},
           {"type", "Error"}},
          "argument type: expected Warning or Normal"},
         {"get_version",
          {{"id", "1"}, {"paths", {"spec"}}},
          "argument paths: each path must be a JSON Pointer"},
         {"analyze_recent_changes",
          {{"start_time", "2h"},
           {"end_time", "1h"},
           {"resource_types", "a,b,c,d,e,f,g,h,i,j,k"}},
          "argument resource_types: name at most 10"},
       }) {
    auto text = error_of(call(c.tool, c.args));
    EXPECT_EQ(text.find(c.says), 0u) << c.tool << " " << c.args << ": " << text;
  }
}

TEST(mcp_args, durations_and_base64) {
  EXPECT_EQ(parse_duration("90s"), int64_t{90'000'000'000});
  EXPECT_EQ(parse_duration("2h"), 2 * hour);
  EXPECT_EQ(parse_duration("7d"), 168 * hour);
  for (const char* bad : {"", "h", "2", "2w", "-1h", "1.5h", "99999999999d"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
  for (const std::string& s : std::vector<std::string>{
         "", "a", "ab", "abc", "abcd", std::string("\0\xff", 2)})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_encode("tools/call"), "dG9vbHMvY2FsbA==");
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("a=bc"));
}

TEST(mcp_tools, what_changed_asks_changes_for_the_window_without_status) {
  auto out = call("what_changed", {{"window", "30m"}, {"namespace", "shop"}});
  const auto& q = std::get<tool_plan>(out).queries;
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].path, "/api/v1/changes");
  auto p = params_of(q[0]);
  EXPECT_EQ(p["start"], "2025-12-03T21:43:20Z");
  EXPECT_EQ(p["end"], "2025-12-03T22:13:20Z");
  EXPECT_EQ(p["namespace"], "shop");
  EXPECT_EQ(p["changeClass"], "spec,meta");
  EXPECT_EQ(p["limit"], "50");
  EXPECT_EQ(p.count("continue"), 0u);
  out = call("what_changed", {{"includeStatus", true}, {"end", "1h"}});
  p = params_of(std::get<tool_plan>(out).queries[0]);
  EXPECT_EQ(p.count("changeClass"), 0u);
  EXPECT_EQ(p["end"], "2025-12-03T21:13:20Z");
}

// An end before int64 nanoseconds begin is clamped; the window before it
// stays at the clamp instead of wrapping around to the far future.
TEST(mcp_tools, what_changed_before_the_earliest_time_stays_at_the_bound) {
  auto out
    = call("what_changed", {{"end", "1000-01-01T00:00:00Z"}, {"window", "2h"}});
  auto p = params_of(std::get<tool_plan>(out).queries.at(0));
  EXPECT_EQ(p["start"], "1677-09-21T00:12:43.145224192Z");
  EXPECT_EQ(p["end"], "1677-09-21T00:12:43.145224192Z");
}

TEST(mcp_tools, what_changed_sums_the_warnings_around_the_changes) {
  auto out = call("what_changed", json::object());
  json page = json::array(
    {{{"resourceName", "a"},
      {"events",
       {{"Warning", 3},
        {"Normal", 1},
        {"reasons", {{"BackOff", 3}, {"Pulled", 1}}}}}},
     {{"resourceName", "b"},
      {"events",
       {{"Warning", 2}, {"Normal", 0}, {"reasons", {{"BackOff", 2}}}}}},
     {{"resourceName", "c"},
      {"events",
       {{"Warning", 0}, {"Normal", 5}, {"reasons", {{"Started", 5}}}}}}});
  auto r = render(out, {ok(page)});
  EXPECT_EQ(r["events"]["warningEvents"], 5);
  EXPECT_EQ(r["events"]["reasons"], (json{{"BackOff", 5}, {"Pulled", 1}}));
  EXPECT_EQ(r["items"].size(), 3u);
}

TEST(mcp_tools, what_changed_merges_several_types_in_the_rest_ranking) {
  auto out = call("what_changed",
                  {{"resourceTypes", {"configmaps", "pods"}}, {"limit", 3}});
  const auto& q = std::get<tool_plan>(out).queries;
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(params_of(q[0])["resourceType"], "configmaps");
  EXPECT_EQ(params_of(q[1])["resourceType"], "pods");
  EXPECT_EQ(params_of(q[1])["limit"], "3");
  auto entry
    = [](const char* name, const char* cls, int warnings, const char* last) {
        return json{
          {"resourceName", name},
          {"changeClasses", {cls}},
          {"verbs", {{"create", 0}, {"update", 1}, {"delete", 0}}},
          {"events", {{"Warning", warnings}, {"reasons", json::object()}}},
          {"last", last}};
      };
  json configmaps = json::array(
    {entry("cm-status", "status", 0, "09"), entry("cm-spec", "spec", 0, "02")});
  json pods = json::array({entry("pod-warned", "status", 4, "01"),
                           entry("pod-spec", "spec", 1, "03")});
  auto r = render(out,
                  {ok(configmaps, {{"X-Coverage-Gaps", "1"}}),
                   ok(pods, {{"X-Coverage-Gaps", "2"}})});
  std::vector<std::string> names;
  for (const auto& e : r["items"])
    names.push_back(e["resourceName"]);
  EXPECT_EQ(names,
            (std::vector<std::string>{"pod-spec", "cm-spec", "pod-warned"}));
  EXPECT_EQ(r["truncated"], true) << "cm-status was left out";
  EXPECT_FALSE(r.contains("nextCursor"));
  EXPECT_EQ(r["coverageGaps"], 3);
  EXPECT_EQ(r["events"]["warningEvents"], 5);
}

TEST(mcp_tools, a_cut_listing_resumes_exactly_where_it_was_cut) {
  // Twenty items of about 1 KB into a 5 KB budget.
  json page = json::array();
  for (int i = 0; i < 20; ++i)
    page.push_back(
      {{"id", std::to_string(i)}, {"message", std::string(1000, 'x')}});
  call_context ctx{now, 50, 5'000};
  auto out = call("list_changes", {{"limit", 20}}, ctx);
  auto first = render(out, {ok(page, {{"X-Continue", "tok1"}})});
  EXPECT_EQ(first["truncated"], true);
  auto n = first["items"].size();
  ASSERT_GT(n, 0u);
  ASSERT_LT(n, 20u);
  EXPECT_LE(first.dump().size(), 5'100u);
  // The next call asks the same REST page again and skips what was given.
  auto next = call("list_changes",
                   {{"limit", 20}, {"cursor", first["nextCursor"]}}, ctx);
  auto p = params_of(std::get<tool_plan>(next).queries[0]);
  EXPECT_EQ(p.count("continue"), 0u) << "the first page has no token";
  EXPECT_EQ(p["limit"], std::to_string(n + 20));
  auto second = render(next, {ok(page, {{"X-Continue", "tok1"}})});
  EXPECT_EQ(second["items"][0]["id"], std::to_string(n));
  // A page that fits whole hands on the REST token.
  auto small
    = render(call("list_changes", {}),
             {ok(json::array({{{"id", "a"}}}), {{"X-Continue", "tok2"}})});
  EXPECT_EQ(small["truncated"], true);
  auto resumed = call("list_changes", {{"cursor", small["nextCursor"]}});
  EXPECT_EQ(params_of(std::get<tool_plan>(resumed).queries[0])["continue"],
            "tok2");
  auto last = render(call("list_changes", {}), {ok(json::array())});
  EXPECT_EQ(last["truncated"], false);
  EXPECT_FALSE(last.contains("nextCursor"));
}

TEST(mcp_tools, check_pod_issues_finds_container_states_and_warnings) {
  auto out
    = call("check_pod_issues",
           {{"start_time", "2h"}, {"end_time", "1h"}, {"namespace", "shop"}});
  const auto& q = std::get<tool_plan>(out).queries;
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].path, "/api/v1/changes");
  EXPECT_EQ(params_of(q[0])["resourceType"], "pods");
  EXPECT_EQ(q[1].path, "/api/v1/events");
  EXPECT_EQ(params_of(q[1])["changeClass"], "status");
  json changes = json::array(
    {{{"namespace", "shop"},
      {"resourceName", "web-1"},
      {"events",
       {{"Warning", 4}, {"Normal", 1}, {"reasons", {{"BackOff", 4}}}}}},
     {{"namespace", "shop"},
      {"resourceName", "quiet"},
      {"events",
       {{"Warning", 0}, {"Normal", 2}, {"reasons", {{"Pulled", 2}}}}}}});
  json records = json::array(
    {{{"id", "01"},
      {"namespace", "shop"},
      {"resourceName", "api-0"},
      {"message",
       "Update pods api-0: container app waiting: ImagePullBackOff: "
       "Back-off pulling image \"x\""}},
     {{"id", "02"},
      {"namespace", "shop"},
      {"resourceName", "quiet"},
      {"message", "Update pods quiet: /status/podIP →10.0.0.1"}}});
  auto r = render(out, {ok(changes), ok(records)});
  ASSERT_EQ(r["pods"].size(), 2u) << r;
  EXPECT_EQ(r["pods"][0]["resourceName"], "web-1");
  EXPECT_EQ(r["pods"][0]["warnings"], 4);
  EXPECT_EQ(r["pods"][0]["reasons"]["BackOff"], 4);
  EXPECT_EQ(r["pods"][1]["resourceName"], "api-0");
  EXPECT_NE(
    r["pods"][1]["containerStates"][0]["message"].get<std::string>().find(
      "ImagePullBackOff"),
    std::string::npos);
}

TEST(mcp_tools, check_resource_limits_reads_the_pods_at_the_windows_end) {
  auto out
    = call("check_resource_limits", {{"start_time", "2h"}, {"end_time", "1h"}});
  const auto& q = std::get<tool_plan>(out).queries;
  EXPECT_EQ(q[0].path, "/api/v1/snapshot");
  EXPECT_EQ(params_of(q[0])["at"], "2025-12-03T21:13:20Z");
  json pods = json::array(
    {{{"namespace", "a"},
      {"resourceName", "p"},
      {"objectChanges",
       {{"spec",
         {{"containers",
           json::array(
             {{{"name", "bounded"},
               {"resources",
                {{"requests", {{"cpu", "1"}, {"memory", "1Gi"}}},
                 {"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}}}},
              {{"name", "free"},
               {"resources", {{"limits", {{"memory", "1Gi"}}}}}}})}}}}}}});
  json records = json::array({{{"id", "09"},
                               {"message",
                                "Update pods p: container free terminated: "
                                "OOMKilled (exit 137)"}}});
  auto r = render(out, {ok(pods), ok(records)});
  ASSERT_EQ(r["containersWithoutLimits"].size(), 1u);
  EXPECT_EQ(r["containersWithoutLimits"][0]["container"], "free");
  EXPECT_EQ(r["containersWithoutLimits"][0]["missing"],
            json::array({"requests.cpu", "requests.memory", "limits.cpu"}));
  EXPECT_EQ(r["oomKilled"][0]["id"], "09");
}

TEST(mcp_tools, check_node_health_reports_condition_flips) {
  auto out
    = call("check_node_health", {{"start_time", "2h"}, {"end_time", "1h"}});
  json changes = json::array(
    {{{"resourceName", "n1"},
      {"verbs", {{"create", 0}, {"update", 3}, {"delete", 0}}},
      {"events", {{"Warning", 0}, {"Normal", 0}, {"reasons", json::object()}}}},
     {{"resourceName", "n2"},
      {"verbs", {{"create", 0}, {"update", 0}, {"delete", 1}}},
      {"events",
       {{"Warning", 0}, {"Normal", 0}, {"reasons", json::object()}}}}});
  json records = json::array(
    {{{"id", "1"},
      {"resourceName", "n1"},
      {"message", "Update nodes n1: Ready False: KubeletNotReady"}},
     {{"id", "2"},
      {"resourceName", "n1"},
      {"message",
       "Update nodes n1: /status/conditions/0/lastHeartbeatTime a→b"}}});
  auto r = render(out, {ok(changes), ok(records)});
  EXPECT_EQ(r["nodesChanged"], 2);
  EXPECT_EQ(r["deleted"], json::array({"n2"}));
  ASSERT_EQ(r["nodes"].size(), 1u);
  ASSERT_EQ(r["nodes"][0]["conditionChanges"].size(), 1u);
  EXPECT_EQ(r["nodes"][0]["conditionChanges"][0]["id"], "1");
}

TEST(mcp_tools, get_version_picks_paths_of_the_snapshot) {
  auto out
    = call("get_version",
           {{"id", "00000000000000ab"}, {"paths", {"/spec/replicas", "/x"}}});
  EXPECT_EQ(std::get<tool_plan>(out).queries[0].path,
            "/api/v1/records/00000000000000ab");
  auto r = render(out,
                  {ok({{"id", "00000000000000ab"},
                       {"objectChanges", {{"spec", {{"replicas", 3}}}}}})});
  EXPECT_EQ(r["paths"]["/spec/replicas"], 3);
  EXPECT_TRUE(r["paths"]["/x"].is_null());
  EXPECT_FALSE(r.contains("object"));
  EXPECT_EQ(r["record"]["id"], "00000000000000ab");
}

TEST(mcp_resources, the_seed_clients_uris_become_queries) {
  call_context ctx{now};
  auto plan = read_resource("audit://events/shop/deployments", ctx);
  ASSERT_TRUE(plan);
  auto p = params_of(plan->queries[0]);
  EXPECT_EQ(plan->queries[0].path, "/api/v1/events");
  EXPECT_EQ(p["namespace"], "shop");
  EXPECT_EQ(p["resourceType"], "deployments");
  EXPECT_EQ(p["start"], "2025-12-02T22:13:20Z");
  plan = read_resource("audit://changes/7d", ctx);
  ASSERT_TRUE(plan);
  EXPECT_EQ(params_of(plan->queries[0])["start"], "2025-11-26T22:13:20Z");
  plan = read_resource("audit://node-events/kws-node-1", ctx);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->queries[0].path, "/api/v1/events/_cluster/nodes/kws-node-1");
  for (const char* bad :
       {"audit://changes/soon", "audit://events", "http://x",
        "audit://events/a/b/c", "audit://events/..", "audit://node-events/"})
    EXPECT_FALSE(read_resource(bad, ctx)) << bad;
}

} // namespace
} // namespace kws::mcp
