#include "rest/mcp/stdio_relay.hpp"

#include "rest/mcp/json_out.hpp"
#include "rest/mcp/protocol.hpp"

namespace kws::mcp {

namespace {

constexpr const char* meta_version = "io.modelcontextprotocol/protocolVersion";

const rapidjson::Value* member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject())
    return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

} // namespace

std::map<std::string, std::string> relay_headers(std::string_view line,
                                                 const relay_state& state) {
  std::map<std::string, std::string> out{
    {"Content-Type", "application/json"},
    {"Accept", "application/json, text/event-stream"}};
  rapidjson::Document msg;
  msg.Parse(line.data(), line.size());
  if (msg.HasParseError() || !msg.IsObject())
    return out; // the server answers what is wrong with it
  auto method = member_text(msg, "method");
  const auto* params = member(msg, "params");
  const auto* meta = params ? member(*params, "_meta") : nullptr;
  auto version = meta ? member_text(*meta, meta_version) : std::string_view{};
  if (!version.empty()) {
    out["MCP-Protocol-Version"] = std::string{version};
    out["Mcp-Method"] = std::string{method};
    if (params && (method == "tools/call" || method == "prompts/get"))
      out["Mcp-Name"] = std::string{member_text(*params, "name")};
    if (params && method == "resources/read")
      out["Mcp-Name"] = std::string{member_text(*params, "uri")};
  } else if (!state.legacy_version.empty() && method != "initialize") {
    out["MCP-Protocol-Version"] = state.legacy_version;
  }
  return out;
}

std::optional<std::string> relay_answer(std::string_view request_line,
                                        int status, std::string_view body,
                                        relay_state& state) {
  if (status == 202 || body.empty())
    return std::nullopt;
  rapidjson::Document request;
  request.Parse(request_line.data(), request_line.size());
  rapidjson::Document answer;
  answer.Parse(body.data(), body.size());
  if (answer.HasParseError())
    return relay_failure(request_line, "the server's answer was not JSON");
  // A refusal before MCP (401 without a valid token, 403) is no JSON-RPC
  // message: it becomes the request's error, with the server's sentence.
  if (status >= 400 && !member(answer, "jsonrpc")) {
    auto why = member_text(answer, "error");
    return relay_failure(request_line,
                         "the server answered " + std::to_string(status)
                           + (why.empty() ? "" : ": " + std::string{why}));
  }
  if (!request.HasParseError()
      && member_text(request, "method") == "initialize")
    if (const auto* result = member(answer, "result"))
      state.legacy_version = member_text(*result, "protocolVersion");
  // Re-serialized: one line whatever the server's formatting.
  return stringify(answer);
}

std::optional<std::string> relay_failure(std::string_view request_line,
                                         std::string_view why) {
  rapidjson::Document request;
  request.Parse(request_line.data(), request_line.size());
  const auto* id = request.HasParseError() ? nullptr : member(request, "id");
  if (!id)
    return std::nullopt;
  rapidjson::Document out{rapidjson::kObjectType};
  auto& a = out.GetAllocator();
  out.AddMember("jsonrpc", "2.0", a);
  out.AddMember("id", rapidjson::Value{*id, a}, a);
  rapidjson::Value error{rapidjson::kObjectType};
  error.AddMember("code", -32603, a);
  error.AddMember("message", text(why, a), a);
  out.AddMember("error", error, a);
  return stringify(out);
}

} // namespace kws::mcp
