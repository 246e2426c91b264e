// The tool table of the MCP endpoint: each tool's schemas, and how a call
// becomes REST queries and their answers one result. Pure: the HTTP handler
// runs the queries.
#pragma once

#include "messages/http.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace kws::mcp {

/// What every tool call knows besides its arguments.
struct call_context {
  int64_t now_ns = 0;
  /// Items of a listing when the call names no `limit`.
  uint32_t default_items = 50;
  /// Longest text of a result, in bytes.
  size_t max_text_bytes = 32'000;
};

/// A tool's answer: `structuredContent` as JSON text, or a message for the
/// model (`isError: true`) naming the argument or query that failed.
struct tool_result {
  std::string structured;
  bool is_error = false;
  std::string error_text = {};
};

/// The REST queries a call needs and how their answers become its result.
struct tool_plan {
  std::vector<http_request> queries;
  std::function<tool_result(const std::vector<http_response>&)> render;
};

using tool_outcome = std::variant<tool_result, tool_plan>;

struct tool {
  const char* name;
  const char* title;
  const char* description;
  /// JSON Schema texts; the output schema has an object at its root.
  std::string input_schema;
  std::string output_schema;
  std::function<tool_outcome(const rapidjson::Value& args,
                             const call_context& ctx)>
    plan;
};

/// Every tool, in the order `tools/list` gives them.
const std::vector<tool>& tool_table();

/// The tool named `name`, or null.
const tool* find_tool(std::string_view name);

/// The incident tools the seed's MCP client offered, answered from Events,
/// status reasons and diffs.
void add_incident_tools(std::vector<tool>& out);

/// The change-history tools built on the change-intelligence endpoints.
void add_history_tools(std::vector<tool>& out);

/// The plan of the `what_changed` tool (what_changed.cpp).
tool_outcome what_changed(const rapidjson::Value& raw, const call_context& ctx);

} // namespace kws::mcp
