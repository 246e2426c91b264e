// The stdio relay's pure part: the HTTP headers each line needs, the
// legacy version it learns from initialize, and its error lines.
#include "rest/mcp/stdio_relay.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kws::mcp {
namespace {

using json = nlohmann::json;

TEST(mcp_stdio_relay, modern_lines_get_the_headers_their_body_implies) {
  relay_state state;
  auto line
    = json{{"jsonrpc", "2.0"},
           {"id", 1},
           {"method", "tools/call"},
           {"params",
            {{"name", "blame"},
             {"_meta",
              {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"}}}}}}
        .dump();
  auto h = relay_headers(line, state);
  EXPECT_EQ(h["MCP-Protocol-Version"], "2026-07-28");
  EXPECT_EQ(h["Mcp-Method"], "tools/call");
  EXPECT_EQ(h["Mcp-Name"], "blame");
  EXPECT_EQ(h["Content-Type"], "application/json");
  line = json{{"jsonrpc", "2.0"},
              {"id", 2},
              {"method", "resources/read"},
              {"params",
               {{"uri", "audit://changes/1h"},
                {"_meta",
                 {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"}}}}}}
           .dump();
  EXPECT_EQ(relay_headers(line, state)["Mcp-Name"], "audit://changes/1h");
}

TEST(mcp_stdio_relay, the_legacy_version_is_learned_from_initialize) {
  relay_state state;
  auto init = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})";
  EXPECT_EQ(relay_headers(init, state).count("MCP-Protocol-Version"), 0u);
  auto out = relay_answer(init, 200,
                          "{\n \"jsonrpc\": \"2.0\", \"id\": 1,\n \"result\": "
                          "{\"protocolVersion\": \"2025-06-18\"}}",
                          state);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(state.legacy_version, "2025-06-18");
  auto h
    = relay_headers(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})", state);
  EXPECT_EQ(h["MCP-Protocol-Version"], "2025-06-18");
  EXPECT_EQ(h.count("Mcp-Method"), 0u);
}

TEST(mcp_stdio_relay, notifications_write_nothing_and_failures_an_error) {
  relay_state state;
  EXPECT_FALSE(
    relay_answer(R"({"jsonrpc":"2.0","method":"x"})", 202, "", state));
  auto err = relay_failure(R"({"jsonrpc":"2.0","id":"a","method":"ping"})",
                           "cannot reach http://x/mcp");
  ASSERT_TRUE(err);
  auto j = json::parse(*err);
  EXPECT_EQ(j["id"], "a");
  EXPECT_EQ(j["error"]["code"], -32603);
  EXPECT_EQ(j["error"]["message"], "cannot reach http://x/mcp");
  EXPECT_FALSE(relay_failure(R"({"jsonrpc":"2.0","method":"ping"})", "x"));
  EXPECT_FALSE(relay_failure("not json", "x"));
  auto bad = relay_answer(R"({"jsonrpc":"2.0","id":3,"method":"ping"})", 502,
                          "<html>bad gateway</html>", state);
  ASSERT_TRUE(bad);
  EXPECT_EQ(json::parse(*bad)["id"], 3);
}

TEST(mcp_stdio_relay, a_refusal_before_mcp_becomes_the_requests_error) {
  relay_state state;
  auto refused = relay_answer(R"({"jsonrpc":"2.0","id":4,"method":"ping"})",
                              401, R"({"error":"send a token"})", state);
  ASSERT_TRUE(refused);
  auto j = json::parse(*refused);
  EXPECT_EQ(j["id"], 4);
  EXPECT_EQ(j["error"]["message"], "the server answered 401: send a token");
  // A JSON-RPC error body with an error status is relayed as it is.
  auto rpc = relay_answer(
    R"({"jsonrpc":"2.0","id":5,"method":"x"})", 400,
    R"({"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"no x"}})",
    state);
  ASSERT_TRUE(rpc);
  EXPECT_EQ(json::parse(*rpc)["error"]["message"], "no x");
}

} // namespace
} // namespace kws::mcp
