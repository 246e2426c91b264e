// One endpoint, two eras, no session state: the era is read off each
// request (the modern `_meta` or protocol version header, else legacy), checked
// the way that era's spec asks, then dispatched to the same method table.
#include "rest/mcp/protocol.hpp"

#include "rest/mcp/catalog.hpp"
#include "rest/mcp/http_checks.hpp"
#include "rest/mcp/json_out.hpp"
#include "rest/mcp/tools.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <map>
#include <optional>

namespace kws::mcp {

namespace {

using value = rapidjson::Value;
using document = rapidjson::Document;

constexpr const char* meta_version = "io.modelcontextprotocol/protocolVersion";
constexpr const char* meta_capabilities
  = "io.modelcontextprotocol/clientCapabilities";
constexpr const char* meta_server = "io.modelcontextprotocol/serverInfo";

// JSON-RPC and MCP error codes.
constexpr int parse_error = -32700;
constexpr int invalid_request = -32600;
constexpr int method_not_found = -32601;
constexpr int invalid_params = -32602;
constexpr int header_mismatch = -32020;
constexpr int unsupported_version = -32022;
constexpr int legacy_resource_not_found = -32002;

/// Lists change only with the binary.
constexpr int64_t list_ttl_ms = 3'600'000;

constexpr const char* instructions
  = "k8s-watch-server records every create, update and delete of every "
    "resource type of this Kubernetes cluster, with diffs, field managers and "
    "the Kubernetes Events about each object. Start with what_changed (the "
    "last hour by default) or the check_* tools; drill down with "
    "object_history, diff_versions, blame and get_version. Times are RFC 3339 "
    "or durations before now such as 2h; every answer carries `now`. Call "
    "coverage to know whether \"no changes\" can be trusted.";

/// One JSON-RPC message being answered.
struct exchange {
  /// The request id as JSON text.
  std::string id = "null";
  std::string method;
  const value* params = nullptr;
  bool modern = false;
};

http_response reply(uint16_t status, std::string body) {
  http_response res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

http_response error_reply(uint16_t status, const std::string& id, int code,
                          std::string_view message,
                          const std::string& data = {}) {
  std::string body = R"({"jsonrpc":"2.0","id":)" + id + R"(,"error":{"code":)"
    + std::to_string(code) + R"(,"message":)"
    + stringify(value{rapidjson::StringRef(message.data(), message.size())});
  if (!data.empty())
    body += ",\"data\":" + data;
  return reply(status, body + "}}");
}

document server_info(const options& opts) {
  document info{rapidjson::kObjectType};
  auto& a = info.GetAllocator();
  info.AddMember("name", "k8s-watch-server", a);
  info.AddMember("title", "Kubernetes change history", a);
  info.AddMember("version", text(opts.version, a), a);
  return info;
}

value capabilities(document::AllocatorType& a) {
  value caps{rapidjson::kObjectType};
  for (const char* name : {"tools", "resources", "prompts"}) {
    value c{rapidjson::kObjectType};
    c.AddMember("listChanged", false, a);
    caps.AddMember(rapidjson::StringRef(name), c, a);
  }
  return caps;
}

/// The response carrying `result`, which the modern era decorates.
http_response result_reply(const exchange& x, document& result,
                           const options& opts, bool cacheable = false) {
  auto& a = result.GetAllocator();
  if (x.modern) {
    result.AddMember("resultType", "complete", a);
    value meta{rapidjson::kObjectType};
    meta.AddMember(rapidjson::StringRef(meta_server),
                   value{server_info(opts), a}, a);
    result.AddMember("_meta", meta, a);
    if (cacheable) {
      result.AddMember("ttlMs", list_ttl_ms, a);
      result.AddMember("cacheScope", "public", a);
    }
  }
  return reply(200,
               R"({"jsonrpc":"2.0","id":)" + x.id + R"(,"result":)"
                 + stringify(result) + "}");
}

const value* member(const value* obj, const char* name) {
  if (!obj || !obj->IsObject())
    return nullptr;
  auto it = obj->FindMember(name);
  return it == obj->MemberEnd() ? nullptr : &it->value;
}

std::string_view string_member(const value* obj, const char* name) {
  const auto* v = member(obj, name);
  return v && v->IsString()
    ? std::string_view{v->GetString(), v->GetStringLength()}
    : std::string_view{};
}

std::string header(const http_request& req, const char* name) {
  auto it = req.headers.find(name);
  return it == req.headers.end() ? std::string{} : it->second;
}

// --- methods -----------------------------------------------------------------

http_response discover(const exchange& x, const options& opts) {
  document r{rapidjson::kObjectType};
  auto& a = r.GetAllocator();
  value versions{rapidjson::kArrayType};
  versions.PushBack(rapidjson::StringRef(modern_version), a);
  for (const auto& v : legacy_versions())
    versions.PushBack(text(v, a), a);
  r.AddMember("supportedVersions", versions, a);
  r.AddMember("capabilities", capabilities(a), a);
  r.AddMember("serverInfo", value{server_info(opts), a}, a);
  r.AddMember("instructions", rapidjson::StringRef(instructions), a);
  return result_reply(x, r, opts, true);
}

http_response initialize(const exchange& x, const options& opts) {
  auto asked = string_member(x.params, "protocolVersion");
  const auto& known = legacy_versions();
  bool served = std::find(known.begin(), known.end(), asked) != known.end();
  document r{rapidjson::kObjectType};
  auto& a = r.GetAllocator();
  r.AddMember("protocolVersion", text(served ? asked : known.front(), a), a);
  r.AddMember("capabilities", capabilities(a), a);
  r.AddMember("serverInfo", value{server_info(opts), a}, a);
  r.AddMember("instructions", rapidjson::StringRef(instructions), a);
  return result_reply(x, r, opts);
}

/// The `tools` of tools/list, the same for every call: built once.
const document& tool_list() {
  static const document list = [] {
    document tools{rapidjson::kArrayType};
    auto& a = tools.GetAllocator();
    for (const auto& t : tool_table()) {
      value item{rapidjson::kObjectType};
      item.AddMember("name", rapidjson::StringRef(t.name), a);
      item.AddMember("title", rapidjson::StringRef(t.title), a);
      item.AddMember("description", rapidjson::StringRef(t.description), a);
      document in;
      in.Parse(t.input_schema.c_str());
      document out;
      out.Parse(t.output_schema.c_str());
      item.AddMember("inputSchema", value{in, a}, a);
      item.AddMember("outputSchema", value{out, a}, a);
      value hints{rapidjson::kObjectType};
      hints.AddMember("title", rapidjson::StringRef(t.title), a);
      hints.AddMember("readOnlyHint", true, a);
      hints.AddMember("openWorldHint", false, a);
      item.AddMember("annotations", hints, a);
      tools.PushBack(item, a);
    }
    return tools;
  }();
  return list;
}

/// A hub's tools: each input schema also takes `cluster`.
void add_cluster_argument(value& tools, const options& opts,
                          document::AllocatorType& a) {
  for (auto& t : tools.GetArray()) {
    auto& props = t["inputSchema"]["properties"];
    value names{rapidjson::kArrayType};
    for (const auto& c : opts.clusters)
      names.PushBack(text(c, a), a);
    value cluster{rapidjson::kObjectType};
    cluster.AddMember("type", "string", a);
    cluster.AddMember("enum", names, a);
    cluster.AddMember(
      "description",
      "the cluster to ask; without it, a tool that lists changed objects "
      "(what_changed) ranks every cluster's, each naming its cluster, and "
      "any other tool fails naming this argument",
      a);
    props.AddMember("cluster", cluster, a);
  }
}

http_response list_tools(const exchange& x, const options& opts) {
  document r{rapidjson::kObjectType};
  auto& a = r.GetAllocator();
  value tools{tool_list(), a};
  if (!opts.clusters.empty())
    add_cluster_argument(tools, opts, a);
  r.AddMember("tools", tools, a);
  return result_reply(x, r, opts, true);
}

/// The tools/call result of a tool's answer.
http_response tool_reply(const exchange& x, const tool_result& t,
                         const options& opts) {
  document r{rapidjson::kObjectType};
  auto& a = r.GetAllocator();
  value content{rapidjson::kArrayType};
  value block{rapidjson::kObjectType};
  block.AddMember("type", "text", a);
  block.AddMember("text", text(t.is_error ? t.error_text : t.structured, a), a);
  content.PushBack(block, a);
  r.AddMember("content", content, a);
  if (!t.is_error) {
    document structured;
    structured.Parse(t.structured.data(), t.structured.size());
    r.AddMember("structuredContent", value{structured, a}, a);
  }
  r.AddMember("isError", t.is_error, a);
  return result_reply(x, r, opts);
}

outcome call_tool(const exchange& x, const options& opts, int64_t now_ns) {
  auto name = string_member(x.params, "name");
  const auto* t = find_tool(name);
  if (!t)
    return error_reply(200, x.id, invalid_params,
                       "unknown tool \"" + std::string{name} + "\"");
  static const value no_args{rapidjson::kObjectType};
  const auto* args = member(x.params, "arguments");
  if (args && !args->IsObject())
    return error_reply(200, x.id, invalid_params,
                       "arguments must be an object");
  call_context ctx{now_ns, opts.default_items, opts.max_text_bytes};
  std::string cluster;
  if (!opts.clusters.empty() && args) {
    cluster = std::string{string_member(args, "cluster")};
    if (!cluster.empty()
        && std::find(opts.clusters.begin(), opts.clusters.end(), cluster)
          == opts.clusters.end())
      return tool_reply(
        x,
        tool_result{
          {}, true, "cluster: this hub answers for none named " + cluster},
        opts);
  }
  auto planned = t->plan(args ? *args : no_args, ctx);
  if (auto* done = std::get_if<tool_result>(&planned))
    return tool_reply(x, *done, opts);
  auto& plan = std::get<tool_plan>(planned);
  pending_call call;
  call.queries = std::move(plan.queries);
  if (!cluster.empty())
    for (auto& q : call.queries) {
      q.query_names.emplace_back("cluster");
      q.query_values.push_back(cluster);
    }
  // The request document is gone when the queries are answered.
  auto answer_to = x;
  answer_to.params = nullptr;
  // A reply reads only the version of the options, not the allowlists.
  options reply_opts;
  reply_opts.version = opts.version;
  call.finish = [x = answer_to, o = std::move(reply_opts),
                 render = std::move(plan.render)](
                  const std::vector<http_response>& answers) {
    return tool_reply(x, render(answers), o);
  };
  return call;
}

http_response list_templates(const exchange& x, const options& opts) {
  document r{rapidjson::kObjectType};
  auto& a = r.GetAllocator();
  value list{rapidjson::kArrayType};
  for (const auto& t : resource_templates()) {
    value item{rapidjson::kObjectType};
    item.AddMember("uriTemplate", rapidjson::StringRef(t.uri_template), a);
    item.AddMember("name", rapidjson::StringRef(t.name), a);
    item.AddMember("description", rapidjson::StringRef(t.description), a);
    item.AddMember("mimeType", "application/json", a);
    list.PushBack(item, a);
  }
  r.AddMember("resourceTemplates", list, a);
  return result_reply(x, r, opts, true);
}

http_response list_resources(const exchange& x, const options& opts) {
  // Everything is reached through the templates.
  document r{rapidjson::kObjectType};
  r.AddMember("resources", value{rapidjson::kArrayType}, r.GetAllocator());
  return result_reply(x, r, opts, true);
}

outcome read_resource_call(const exchange& x, const options& opts,
                           int64_t now_ns) {
  std::string uri{string_member(x.params, "uri")};
  int not_found = x.modern ? invalid_params : legacy_resource_not_found;
  call_context ctx{now_ns, opts.default_items, opts.max_text_bytes};
  auto plan = read_resource(uri, ctx);
  if (!plan)
    return error_reply(200, x.id, not_found, "no resource " + uri);
  pending_call call;
  call.queries = std::move(plan->queries);
  auto answer_to = x;
  answer_to.params = nullptr;
  call.finish
    = [x = answer_to, opts, uri, not_found, render = std::move(plan->render)](
        const std::vector<http_response>& answers) {
        auto t = render(answers);
        if (t.is_error)
          return error_reply(200, x.id, not_found, t.error_text);
        document r{rapidjson::kObjectType};
        auto& a = r.GetAllocator();
        value item{rapidjson::kObjectType};
        item.AddMember("uri", text(uri, a), a);
        item.AddMember("mimeType", "application/json", a);
        item.AddMember("text", text(t.structured, a), a);
        value contents{rapidjson::kArrayType};
        contents.PushBack(item, a);
        r.AddMember("contents", contents, a);
        return result_reply(x, r, opts, true);
      };
  return call;
}

http_response list_prompts(const exchange& x, const options& opts) {
  document r{rapidjson::kObjectType};
  auto& a = r.GetAllocator();
  value list{rapidjson::kArrayType};
  for (const auto& p : prompt_table()) {
    value item{rapidjson::kObjectType};
    item.AddMember("name", rapidjson::StringRef(p.name), a);
    item.AddMember("title", rapidjson::StringRef(p.title), a);
    item.AddMember("description", rapidjson::StringRef(p.description), a);
    value args{rapidjson::kArrayType};
    for (const auto& arg : p.arguments) {
      value v{rapidjson::kObjectType};
      v.AddMember("name", rapidjson::StringRef(arg.name), a);
      v.AddMember("description", rapidjson::StringRef(arg.description), a);
      v.AddMember("required", arg.required, a);
      args.PushBack(v, a);
    }
    item.AddMember("arguments", args, a);
    list.PushBack(item, a);
  }
  r.AddMember("prompts", list, a);
  return result_reply(x, r, opts, true);
}

http_response get_prompt(const exchange& x, const options& opts) {
  auto name = string_member(x.params, "name");
  const auto* p = find_prompt(name);
  if (!p)
    return error_reply(200, x.id, invalid_params,
                       "unknown prompt \"" + std::string{name} + "\"");
  std::map<std::string, std::string> args;
  if (const auto* given = member(x.params, "arguments");
      given && given->IsObject())
    for (const auto& m : given->GetObject())
      if (m.value.IsString())
        args[m.name.GetString()] = m.value.GetString();
  for (const auto& arg : p->arguments)
    if (arg.required && args[arg.name].empty())
      return error_reply(200, x.id, invalid_params,
                         std::string{"prompt argument "} + arg.name
                           + " is required");
  document r{rapidjson::kObjectType};
  auto& a = r.GetAllocator();
  r.AddMember("description", rapidjson::StringRef(p->description), a);
  value content{rapidjson::kObjectType};
  content.AddMember("type", "text", a);
  content.AddMember("text", text(p->message(args), a), a);
  value message{rapidjson::kObjectType};
  message.AddMember("role", "user", a);
  message.AddMember("content", content, a);
  value messages{rapidjson::kArrayType};
  messages.PushBack(message, a);
  r.AddMember("messages", messages, a);
  return result_reply(x, r, opts);
}

/// The methods both eras share; nullopt when `method` is none of them.
std::optional<outcome> dispatch(const exchange& x, const options& opts,
                                int64_t now_ns) {
  const auto& m = x.method;
  if (m == "tools/list")
    return list_tools(x, opts);
  if (m == "tools/call")
    return call_tool(x, opts, now_ns);
  if (m == "resources/list")
    return list_resources(x, opts);
  if (m == "resources/templates/list")
    return list_templates(x, opts);
  if (m == "resources/read")
    return read_resource_call(x, opts, now_ns);
  if (m == "prompts/list")
    return list_prompts(x, opts);
  if (m == "prompts/get")
    return get_prompt(x, opts);
  return std::nullopt;
}

// --- eras --------------------------------------------------------------------

/// The name a modern request's Mcp-Name header must repeat, if any.
std::optional<std::string_view> expected_name(const exchange& x) {
  if (x.method == "tools/call" || x.method == "prompts/get")
    return string_member(x.params, "name");
  if (x.method == "resources/read")
    return string_member(x.params, "uri");
  return std::nullopt;
}

outcome modern(exchange& x, const http_request& req, bool notification,
               const options& opts, int64_t now_ns) {
  const auto* meta = member(x.params, "_meta");
  const auto* version = member(meta, meta_version);
  if (!version || !version->IsString() || !member(meta, meta_capabilities))
    return error_reply(400, x.id, invalid_params,
                       std::string{"params._meta must carry "} + meta_version
                         + " and " + meta_capabilities);
  std::string asked{version->GetString(), version->GetStringLength()};
  if (asked != modern_version) {
    document data{rapidjson::kObjectType};
    auto& a = data.GetAllocator();
    value supported{rapidjson::kArrayType};
    supported.PushBack(rapidjson::StringRef(modern_version), a);
    data.AddMember("supported", supported, a);
    data.AddMember("requested", text(asked, a), a);
    return error_reply(400, x.id, unsupported_version,
                       "unsupported protocol version " + asked,
                       stringify(data));
  }
  auto mismatch = [&](const char* name, std::string_view want) {
    std::string got;
    auto raw = header(req, name);
    if (!decode_header_value(raw, got) || got != want)
      return std::optional<outcome>{
        error_reply(400, x.id, header_mismatch,
                    std::string{"header "} + name + " must be \""
                      + std::string{want} + "\", got \"" + raw + "\"")};
    return std::optional<outcome>{};
  };
  if (auto bad = mismatch("mcp-protocol-version", asked))
    return *bad;
  if (auto bad = mismatch("mcp-method", x.method))
    return *bad;
  if (auto name = expected_name(x))
    if (auto bad = mismatch("mcp-name", *name))
      return *bad;
  if (notification)
    return reply(202, "");
  if (x.method == "server/discover")
    return discover(x, opts);
  if (auto out = dispatch(x, opts, now_ns))
    return std::move(*out);
  return error_reply(404, x.id, method_not_found,
                     "method " + x.method + " is not served in "
                       + modern_version);
}

outcome legacy(exchange& x, const http_request& req, bool notification,
               const options& opts, int64_t now_ns) {
  if (x.method == "initialize")
    return initialize(x, opts);
  if (auto version = header(req, "mcp-protocol-version"); !version.empty()) {
    const auto& known = legacy_versions();
    if (std::find(known.begin(), known.end(), version) == known.end())
      return error_reply(400, x.id, invalid_request,
                         "unsupported MCP-Protocol-Version " + version);
  }
  if (notification)
    return reply(202, "");
  if (x.method == "ping") {
    document empty{rapidjson::kObjectType};
    return result_reply(x, empty, opts);
  }
  if (auto out = dispatch(x, opts, now_ns))
    return std::move(*out);
  return error_reply(200, x.id, method_not_found,
                     "method " + x.method + " is not served");
}

} // namespace

const std::vector<std::string>& legacy_versions() {
  static const std::vector<std::string> versions{"2025-11-25", "2025-06-18",
                                                 "2025-03-26"};
  return versions;
}

outcome handle(const http_request& req, const options& opts, int64_t now_ns) {
  if (!host_allowed(header(req, "host"), opts.allowed_hosts))
    return error_reply(403, "null", invalid_request,
                       "Host " + header(req, "host") + " is not served");
  if (!origin_allowed(header(req, "origin"), opts.allowed_origins,
                      opts.allowed_hosts))
    return error_reply(403, "null", invalid_request,
                       "Origin " + header(req, "origin") + " is not allowed");
  auto type = header(req, "content-type");
  if (!type.empty() && type.find("application/json") == std::string::npos)
    return error_reply(415, "null", invalid_request,
                       "Content-Type must be application/json");
  document msg;
  msg.Parse(req.body.data(), req.body.size());
  if (msg.HasParseError())
    return error_reply(400, "null", parse_error,
                       std::string{"parse error: "}
                         + rapidjson::GetParseError_En(msg.GetParseError())
                         + " at offset "
                         + std::to_string(msg.GetErrorOffset()));
  if (msg.IsArray())
    return error_reply(400, "null", invalid_request,
                       "batches are not supported; send one message a POST");
  if (!msg.IsObject() || string_member(&msg, "jsonrpc") != "2.0")
    return error_reply(400, "null", invalid_request,
                       "not a JSON-RPC 2.0 message");
  exchange x;
  const auto* id = member(&msg, "id");
  const auto* method = member(&msg, "method");
  if (!method) {
    // A response or an error from the client: nothing asked for one.
    if (member(&msg, "result") || member(&msg, "error"))
      return reply(202, "");
    return error_reply(400, "null", invalid_request, "no method");
  }
  if (id && !id->IsString() && !(id->IsInt64() || id->IsUint64()))
    return error_reply(400, "null", invalid_request,
                       "id must be a string or an integer");
  if (id)
    x.id = stringify(*id);
  if (!method->IsString())
    return error_reply(400, x.id, invalid_request, "method must be a string");
  x.method = method->GetString();
  x.params = member(&msg, "params");
  if (x.params && !x.params->IsObject())
    return error_reply(400, x.id, invalid_params, "params must be an object");
  bool notification = id == nullptr;
  // Mcp-Method alone says nothing: clients of both eras send it.
  x.modern = member(member(x.params, "_meta"), meta_version)
    || header(req, "mcp-protocol-version") == modern_version
    || x.method == "server/discover";
  return x.modern ? modern(x, req, notification, opts, now_ns)
                  : legacy(x, req, notification, opts, now_ns);
}

} // namespace kws::mcp
