// The MCP endpoint's protocol layer as pure code: both eras, their header
// and error rules (../shared/docs/mcp.md), Host/Origin checks and the
// handover of tool calls to REST queries. Answers are read with nlohmann.
#include "rest/mcp/http_checks.hpp"
#include "rest/mcp/protocol.hpp"
#include "rest/mcp/tool_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <variant>

namespace kws::mcp {
namespace {

using json = nlohmann::json;

constexpr int64_t now = 1'764'800'000'000'000'000; // 2025-12-03T22:13:20Z

http_request post(const json& body,
                  std::map<std::string, std::string> headers = {}) {
  http_request req;
  req.method = "POST";
  req.path = "/mcp";
  req.headers = std::move(headers);
  req.body = body.dump();
  return req;
}

/// A modern request: `_meta` and the headers the 2026-07-28 revision asks.
http_request modern(const std::string& method, json params = json::object(),
                    const std::string& name = {}) {
  params["_meta"]
    = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
       {"io.modelcontextprotocol/clientCapabilities", json::object()}};
  std::map<std::string, std::string> headers{
    {"mcp-protocol-version", "2026-07-28"}, {"mcp-method", method}};
  if (!name.empty())
    headers["mcp-name"] = name;
  return post(
    {{"jsonrpc", "2.0"}, {"id", 7}, {"method", method}, {"params", params}},
    headers);
}

http_response answer(const http_request& req, const options& opts = {}) {
  auto out = handle(req, opts, now);
  EXPECT_TRUE(std::holds_alternative<http_response>(out))
    << "expected an immediate answer to " << req.body;
  if (!std::holds_alternative<http_response>(out))
    return {};
  return std::get<http_response>(out);
}

json body_of(const http_response& res) {
  return json::parse(res.body);
}

int error_code(const http_response& res) {
  return body_of(res)["error"]["code"].get<int>();
}

TEST(mcp_legacy, initialize_answers_the_clients_version_or_our_newest) {
  auto res
    = answer(post({{"jsonrpc", "2.0"},
                   {"id", 1},
                   {"method", "initialize"},
                   {"params",
                    {{"protocolVersion", "2025-06-18"},
                     {"capabilities", json::object()},
                     {"clientInfo", {{"name", "t"}, {"version", "1"}}}}}}));
  ASSERT_EQ(res.status, 200);
  auto b = body_of(res);
  EXPECT_EQ(b["id"], 1);
  EXPECT_EQ(b["result"]["protocolVersion"], "2025-06-18");
  EXPECT_TRUE(b["result"]["capabilities"].contains("tools"));
  EXPECT_TRUE(b["result"]["capabilities"].contains("resources"));
  EXPECT_TRUE(b["result"]["capabilities"].contains("prompts"));
  EXPECT_EQ(b["result"]["serverInfo"]["name"], "k8s-watch-server");
  EXPECT_FALSE(b["result"]["instructions"].get<std::string>().empty());
  EXPECT_FALSE(b["result"].contains("resultType")) << "a modern member";
  res = answer(post({{"jsonrpc", "2.0"},
                     {"id", "a"},
                     {"method", "initialize"},
                     {"params", {{"protocolVersion", "2024-01-01"}}}}));
  EXPECT_EQ(body_of(res)["result"]["protocolVersion"], "2025-11-25");
  EXPECT_EQ(body_of(res)["id"], "a");
}

TEST(mcp_legacy, notifications_and_responses_are_202_without_body) {
  auto res
    = answer(post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
                  {{"mcp-protocol-version", "2025-11-25"}}));
  EXPECT_EQ(res.status, 202);
  EXPECT_TRUE(res.body.empty());
  res
    = answer(post({{"jsonrpc", "2.0"}, {"id", 3}, {"result", json::object()}}));
  EXPECT_EQ(res.status, 202);
}

TEST(mcp_legacy, ping_and_versions) {
  auto res = answer(post({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "ping"}},
                         {{"mcp-protocol-version", "2025-03-26"}}));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res)["result"], json::object());
  // No header means 2025-03-26; an unknown one is a 400.
  res = answer(post({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "ping"}}));
  EXPECT_EQ(res.status, 200);
  res = answer(post({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "ping"}},
                    {{"mcp-protocol-version", "1999-01-01"}}));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_code(res), -32600);
}

TEST(mcp_legacy, an_mcp_method_header_does_not_make_a_request_modern) {
  auto res = answer(post(
    {{"jsonrpc", "2.0"},
     {"id", 1},
     {"method", "initialize"},
     {"params", {{"protocolVersion", "2025-11-25"}}}},
    {{"mcp-method", "initialize"}, {"mcp-protocol-version", "2025-11-25"}}));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res)["result"]["protocolVersion"], "2025-11-25");
}

TEST(mcp_legacy, unknown_methods_tools_and_resources) {
  auto res
    = answer(post({{"jsonrpc", "2.0"}, {"id", 4}, {"method", "nope/x"}}));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(error_code(res), -32601);
  res = answer(post({{"jsonrpc", "2.0"},
                     {"id", 4},
                     {"method", "tools/call"},
                     {"params", {{"name", "rm_rf"}}}}));
  EXPECT_EQ(error_code(res), -32602);
  res = answer(post({{"jsonrpc", "2.0"},
                     {"id", 4},
                     {"method", "resources/read"},
                     {"params", {{"uri", "file:///etc/passwd"}}}}));
  EXPECT_EQ(error_code(res), -32002);
  EXPECT_EQ(body_of(res)["id"], 4);
}

TEST(mcp_malformed, every_bad_message_gets_the_json_rpc_error_it_names) {
  struct bad_case {
    std::string body;
    uint16_t status;
    int code;
  };
  for (const auto& c : std::vector<bad_case>{
         {"{not json", 400, -32700},
         {"", 400, -32700},
         {R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", 400, -32600},
         {R"({"jsonrpc":"1.0","id":1,"method":"ping"})", 400, -32600},
         {R"("ping")", 400, -32600},
         {R"({"jsonrpc":"2.0","id":1})", 400, -32600},
         {R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})", 400, -32600},
         {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", 400, -32600},
         {R"({"jsonrpc":"2.0","id":1,"method":7})", 400, -32600},
         {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})", 400,
          -32602},
       }) {
    http_request req;
    req.method = "POST";
    req.path = "/mcp";
    req.body = c.body;
    auto res = answer(req);
    EXPECT_EQ(res.status, c.status) << c.body;
    EXPECT_EQ(error_code(res), c.code) << c.body;
    EXPECT_EQ(body_of(res)["jsonrpc"], "2.0");
  }
  auto req = post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}},
                  {{"content-type", "text/plain"}});
  EXPECT_EQ(answer(req).status, 415);
}

TEST(mcp_modern, discover_lists_versions_and_caching_members) {
  auto res = answer(modern("server/discover"));
  ASSERT_EQ(res.status, 200) << res.body;
  auto r = body_of(res)["result"];
  EXPECT_EQ(r["supportedVersions"][0], "2026-07-28");
  EXPECT_NE(std::find(r["supportedVersions"].begin(),
                      r["supportedVersions"].end(), "2025-11-25"),
            r["supportedVersions"].end());
  EXPECT_EQ(r["resultType"], "complete");
  EXPECT_GE(r["ttlMs"].get<int64_t>(), 0);
  EXPECT_EQ(r["cacheScope"], "public");
  EXPECT_EQ(r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
            "k8s-watch-server");
}

TEST(mcp_modern, lists_carry_ttl_and_every_tool_is_read_only_with_schemas) {
  auto r = body_of(answer(modern("tools/list")))["result"];
  EXPECT_EQ(r["resultType"], "complete");
  EXPECT_TRUE(r.contains("ttlMs"));
  EXPECT_EQ(r["cacheScope"], "public");
  std::set<std::string> names;
  for (const auto& t : r["tools"]) {
    names.insert(t["name"]);
    EXPECT_EQ(t["annotations"]["readOnlyHint"], true) << t["name"];
    EXPECT_EQ(t["annotations"]["openWorldHint"], false) << t["name"];
    EXPECT_EQ(t["inputSchema"]["type"], "object") << t["name"];
    EXPECT_EQ(t["outputSchema"]["type"], "object") << t["name"];
    EXPECT_TRUE(t["outputSchema"]["required"].is_array()) << t["name"];
  }
  for (const char* name :
       {"check_node_health", "check_pod_issues", "check_volume_issues",
        "analyze_recent_changes", "investigate_pod_startup",
        "check_resource_limits", "what_changed", "list_changes",
        "object_history", "diff_versions", "blame", "events_for", "get_version",
        "snapshot_at", "coverage"})
    EXPECT_TRUE(names.count(name)) << name;
  for (const char* method :
       {"resources/list", "resources/templates/list", "prompts/list"}) {
    auto list = body_of(answer(modern(method)))["result"];
    EXPECT_EQ(list["resultType"], "complete") << method;
    EXPECT_TRUE(list.contains("ttlMs")) << method;
  }
}

TEST(mcp_modern, missing_meta_members_are_400_invalid_params) {
  auto req = modern("tools/list");
  auto b = json::parse(req.body);
  b["params"]["_meta"].erase("io.modelcontextprotocol/clientCapabilities");
  req.body = b.dump();
  auto res = answer(req);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_code(res), -32602);
  // The modern header with no _meta at all.
  res = answer(post(
    {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}},
    {{"mcp-protocol-version", "2026-07-28"}, {"mcp-method", "tools/list"}}));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_code(res), -32602);
}

TEST(mcp_modern, an_unknown_version_is_400_with_supported_and_requested) {
  auto req = modern("tools/list");
  auto b = json::parse(req.body);
  b["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"]
    = "2099-01-01";
  req.body = b.dump();
  req.headers["mcp-protocol-version"] = "2099-01-01";
  auto res = answer(req);
  EXPECT_EQ(res.status, 400);
  auto err = body_of(res)["error"];
  EXPECT_EQ(err["code"], -32022);
  EXPECT_EQ(err["data"]["requested"], "2099-01-01");
  EXPECT_EQ(err["data"]["supported"][0], "2026-07-28");
}

TEST(mcp_modern, headers_must_repeat_the_body) {
  struct header_case {
    std::string header;
    std::string value; // "" removes it
  };
  for (const auto& c : std::vector<header_case>{
         {"mcp-method", ""},
         {"mcp-method", "TOOLS/CALL"},
         {"mcp-name", ""},
         {"mcp-name", "coverage"},
         {"mcp-protocol-version", "2025-11-25"},
         {"mcp-protocol-version", ""},
       }) {
    auto req = modern("tools/call", {{"name", "blame"}}, "blame");
    if (c.value.empty())
      req.headers.erase(c.header);
    else
      req.headers[c.header] = c.value;
    auto res = answer(req);
    EXPECT_EQ(res.status, 400) << c.header << "=" << c.value;
    EXPECT_EQ(error_code(res), -32020) << c.header << "=" << c.value;
  }
  // A base64-encoded name is decoded before comparing.
  auto req
    = modern("prompts/get", {{"name", "diagnose_cluster_health"}},
             "=?base64?" + base64_encode("diagnose_cluster_health") + "?=");
  auto res = answer(req);
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(body_of(res)["result"]["messages"][0]["role"], "user");
  req.headers["mcp-name"] = "=?base64?%%%?=";
  EXPECT_EQ(error_code(answer(req)), -32020);
}

TEST(mcp_modern, legacy_only_methods_are_404_method_not_found) {
  for (const char* method :
       {"initialize", "ping", "subscriptions/listen", "nope"}) {
    auto res = answer(modern(method));
    EXPECT_EQ(res.status, 404) << method;
    EXPECT_EQ(error_code(res), -32601) << method;
  }
}

TEST(mcp_modern, unknown_tools_prompts_and_resources_are_invalid_params) {
  auto res = answer(modern("tools/call", {{"name", "nope"}}, "nope"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(error_code(res), -32602);
  res = answer(modern("prompts/get", {{"name", "nope"}}, "nope"));
  EXPECT_EQ(error_code(res), -32602);
  res = answer(
    modern("resources/read", {{"uri", "audit://x/y/z/w"}}, "audit://x/y/z/w"));
  EXPECT_EQ(error_code(res), -32602);
  res = answer(modern("prompts/get", {{"name", "investigate_pod_failure"}},
                      "investigate_pod_failure"));
  EXPECT_EQ(error_code(res), -32602) << "pod_name is required";
}

TEST(mcp_transport, foreign_hosts_and_origins_are_403) {
  auto ping = json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}};
  EXPECT_EQ(answer(post(ping, {{"host", "evil.example.com"}})).status, 403);
  EXPECT_EQ(answer(post(ping,
                        {{"host", "127.0.0.1:8080"},
                         {"origin", "http://evil.example.com"}}))
              .status,
            403);
  EXPECT_EQ(answer(post(ping, {{"origin", "null"}})).status, 403);
  for (const char* host : {"localhost:8080", "127.0.0.1", "[::1]:80",
                           "10.0.0.7:8080", "k8s-watch-server:8080"}) {
    options opts;
    opts.allowed_hosts = {"k8s-watch-server"};
    EXPECT_EQ(answer(post(ping, {{"host", host}}), opts).status, 200) << host;
  }
  options opts;
  opts.allowed_origins = {"https://ops.example.com"};
  EXPECT_EQ(
    answer(post(ping, {{"origin", "https://ops.example.com"}}), opts).status,
    200);
  EXPECT_EQ(answer(post(ping, {{"origin", "http://localhost:6274"}})).status,
            200);
}

TEST(mcp_transport, host_parsing) {
  EXPECT_EQ(host_of("[::1]:8080"), "::1");
  EXPECT_EQ(host_of("http://Example.COM:80/x"), "example.com");
  EXPECT_EQ(host_of("localhost"), "localhost");
  EXPECT_TRUE(is_loopback_host("127.3.4.5"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_TRUE(is_ip_literal("fd00::1"));
  EXPECT_FALSE(is_ip_literal("evil.example.com"));
}

TEST(mcp_tools, a_call_becomes_rest_queries_and_their_answers_its_result) {
  auto req = modern("tools/call",
                    {{"name", "list_changes"},
                     {"arguments", {{"namespace", "shop"}, {"limit", 2}}}},
                    "list_changes");
  auto out = handle(req, {}, now);
  ASSERT_TRUE(std::holds_alternative<pending_call>(out));
  auto& call = std::get<pending_call>(out);
  ASSERT_EQ(call.queries.size(), 1u);
  EXPECT_EQ(call.queries[0].method, "GET");
  EXPECT_EQ(call.queries[0].path, "/api/v1/events");
  EXPECT_FALSE(call.queries[0].from_loopback);
  std::map<std::string, std::string> q;
  for (size_t i = 0; i < call.queries[0].query_names.size(); ++i)
    q[call.queries[0].query_names[i]] = call.queries[0].query_values[i];
  EXPECT_EQ(q["namespace"], "shop");
  EXPECT_EQ(q["limit"], "2");
  http_response page;
  page.body = R"([{"id":"0000000000000001","verb":"create","namespace":"shop",)"
              R"("resourceName":"a","objectChanges":{"big":true}}])";
  auto res = call.finish({page});
  auto r = body_of(res)["result"];
  EXPECT_EQ(r["resultType"], "complete");
  EXPECT_EQ(r["isError"], false);
  auto sc = r["structuredContent"];
  EXPECT_EQ(sc["items"][0]["id"], "0000000000000001");
  EXPECT_FALSE(sc["items"][0].contains("objectChanges"));
  EXPECT_EQ(sc["truncated"], false);
  EXPECT_EQ(sc["now"], "2025-12-03T22:13:20Z");
  EXPECT_EQ(json::parse(r["content"][0]["text"].get<std::string>()), sc);
}

TEST(mcp_tools, a_failed_query_is_an_error_result_naming_the_parameter) {
  auto req = modern("tools/call",
                    {{"name", "list_changes"},
                     {"arguments", {{"resourceType", "nosuchthings"}}}},
                    "list_changes");
  auto out = handle(req, {}, now);
  ASSERT_TRUE(std::holds_alternative<pending_call>(out));
  http_response bad;
  bad.status = 400;
  bad.body
    = R"({"error":"unknown resource type nosuchthings","parameter":"resourceType"})";
  auto r = body_of(std::get<pending_call>(out).finish({bad}))["result"];
  EXPECT_EQ(r["isError"], true);
  auto text = r["content"][0]["text"].get<std::string>();
  EXPECT_NE(text.find("unknown resource type nosuchthings"), std::string::npos);
  EXPECT_NE(text.find("resourceType"), std::string::npos);
  EXPECT_FALSE(r.contains("structuredContent"));
}

TEST(mcp_hub, every_tool_takes_a_cluster_that_its_queries_carry) {
  options hub;
  hub.clusters = {"eu", "us"};
  auto listed = body_of(answer(modern("tools/list"), hub))["result"]["tools"];
  ASSERT_FALSE(listed.empty());
  for (const auto& t : listed)
    EXPECT_EQ(t["inputSchema"]["properties"]["cluster"]["enum"],
              json::array({"eu", "us"}))
      << t["name"];
  auto plain = body_of(answer(modern("tools/list")))["result"]["tools"];
  EXPECT_FALSE(plain[0]["inputSchema"]["properties"].contains("cluster"))
    << "a server's tools take none";
  auto call = [&](json args) {
    return handle(modern("tools/call",
                         {{"name", "list_changes"}, {"arguments", args}},
                         "list_changes"),
                  hub, now);
  };
  auto cluster_of = [](const http_request& q) {
    for (size_t i = 0; i < q.query_names.size(); ++i)
      if (q.query_names[i] == "cluster")
        return q.query_values[i];
    return std::string{"(none)"};
  };
  auto named = call({{"cluster", "us"}, {"namespace", "shop"}});
  ASSERT_TRUE(std::holds_alternative<pending_call>(named));
  EXPECT_EQ(cluster_of(std::get<pending_call>(named).queries.at(0)), "us");
  auto unnamed = call({{"namespace", "shop"}});
  ASSERT_TRUE(std::holds_alternative<pending_call>(unnamed));
  EXPECT_EQ(cluster_of(std::get<pending_call>(unnamed).queries.at(0)), "(none)")
    << "the hub's routing decides what a query without one means";
  auto unknown = call({{"cluster", "asia"}});
  ASSERT_TRUE(std::holds_alternative<http_response>(unknown));
  auto r = body_of(std::get<http_response>(unknown))["result"];
  EXPECT_EQ(r["isError"], true);
  EXPECT_NE(r["content"][0]["text"].get<std::string>().find("cluster"),
            std::string::npos);
}

} // namespace
} // namespace kws::mcp
