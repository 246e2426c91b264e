// The MCP prompts and resource templates: the seed client's four of each,
// served under the same names and URIs (variables renamed to valid RFC 6570
// names), each answered by our tools and REST queries.
#pragma once

#include "rest/mcp/tools.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws::mcp {

struct prompt_argument {
  const char* name;
  const char* description;
  bool required;
};

struct prompt {
  const char* name;
  const char* title;
  const char* description;
  std::vector<prompt_argument> arguments;
  /// The user message, given the arguments (required ones are present).
  std::string (*message)(const std::map<std::string, std::string>& args);
};

const std::vector<prompt>& prompt_table();
const prompt* find_prompt(std::string_view name);

struct resource_template {
  const char* uri_template;
  const char* name;
  const char* description;
};

const std::vector<resource_template>& resource_templates();

/// The REST query behind a resource URI (its JSON is the resource's text),
/// or nullopt when the URI names no resource of ours.
std::optional<tool_plan> read_resource(std::string_view uri,
                                       const call_context& ctx);

} // namespace kws::mcp
