// The change-history tools: thin, paged views of the change-intelligence
// endpoints (what changed in a window, one object's versions, diffs, blame,
// the state as of a moment, coverage), shortened for a model.
#include "rest/mcp/json_out.hpp"
#include "rest/mcp/tool_support.hpp"
#include "rest/mcp/tools.hpp"
#include "util/time_format.hpp"

#include <rapidjson/pointer.h>

namespace kws::mcp {

namespace {

using value = rapidjson::Value;
using alloc = rapidjson::Document::AllocatorType;
using params = std::vector<std::pair<std::string, std::string>>;

/// A record shortened for a listing.
value summary_item(const value& record, alloc& a) {
  return summarize_record(record, a);
}

/// A single REST answer (an object) passed on as the result, its array
/// `items_key` capped.
tool_plan whole(http_request query, const call_context& ctx,
                const char* items_key, const char* what) {
  tool_plan plan;
  plan.queries.push_back(std::move(query));
  plan.render
    = [ctx, items_key, what](const std::vector<http_response>& answers) {
        auto answer = read_answer(answers.at(0));
        if (!answer.ok)
          return failure(answer, what);
        rapidjson::Document doc{rapidjson::kObjectType};
        auto& a = doc.GetAllocator();
        if (answer.doc.IsObject())
          for (auto& m : answer.doc.GetObject())
            doc.AddMember(value{m.name, a}, value{m.value, a}, a);
        if (answer.coverage_gaps >= 0)
          doc.AddMember("coverageGaps", answer.coverage_gaps, a);
        return finish_result(doc, items_key, ctx);
      };
  return plan;
}

std::string time_text(int64_t ns) {
  return format_rfc3339(ns);
}

/// `namespace`, `resourceType` and `name` of an object tool, as a path.
std::string object_path(arg_reader& args, const char* suffix = "") {
  auto ns = args.segment("namespace");
  auto type = args.segment("resourceType");
  auto name = args.segment("name");
  return "/api/v1/events/" + ns + "/" + type + "/" + name + suffix;
}

tool_outcome list_changes(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  params ps;
  for (const char* name : {"namespace", "resourceType", "resourceName", "verb",
                           "user", "uid", "changeClass", "path", "order"})
    ps.emplace_back(name, args.text(name));
  for (const char* name : {"start", "end"}) {
    auto t = args.time(name, 0);
    if (t != 0)
      ps.emplace_back(name, time_text(t));
  }
  auto limit = args.count("limit", ctx.default_items, max_listing_items);
  auto cursor = read_cursor(args);
  if (args.failed())
    return args.error();
  return paged("/api/v1/events", std::move(ps), cursor, limit, ctx,
               summary_item, "list_changes");
}

/// Versions (and the Events about the object) of one object.
tool_outcome object_history(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto path = object_path(args);
  auto start = args.time("start", 0);
  auto end = args.time("end", 0);
  auto limit = args.count("limit", ctx.default_items, max_listing_items);
  if (args.failed())
    return args.error();
  params ps{{"start", start ? time_text(start) : ""},
            {"end", end ? time_text(end) : ""},
            {"limit", std::to_string(limit)}};
  tool_plan plan;
  plan.queries.push_back(rest_get(path, ps));
  plan.render = [ctx](const std::vector<http_response>& answers) {
    auto answer = read_answer(answers.at(0));
    if (!answer.ok)
      return failure(answer, "object_history");
    rapidjson::Document doc{rapidjson::kObjectType};
    auto& a = doc.GetAllocator();
    value versions{rapidjson::kArrayType};
    value events{rapidjson::kArrayType};
    for (const auto& r : items(at(answer.doc, "watchEvents")))
      versions.PushBack(summarize_record(r, a), a);
    for (const auto& r : items(at(answer.doc, "relatedEvents")))
      events.PushBack(summarize_record(r, a), a);
    doc.AddMember("relatedEvents", events, a);
    doc.AddMember("items", versions, a);
    return finish_result(doc, "items", ctx);
  };
  return plan;
}

tool_outcome diff_versions(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto path = object_path(args, "/diff");
  params ps{{"from", args.text("fromId")}, {"to", args.text("toId")}};
  auto ignore = args.list("ignore");
  std::string joined;
  for (const auto& p : ignore)
    joined += (joined.empty() ? "" : ",") + p;
  ps.emplace_back("ignore", joined);
  if (args.failed())
    return args.error();
  return whole(rest_get(path, ps), ctx, "patch", "diff_versions");
}

tool_outcome blame(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto path = object_path(args, "/blame");
  auto at = args.time("at", ctx.now_ns);
  if (args.failed())
    return args.error();
  return whole(rest_get(path, {{"at", time_text(at)}}), ctx, "fields", "blame");
}

/// The Kubernetes Events about one object, optionally of one type.
tool_outcome events_for(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto path = object_path(args);
  auto type = args.text("type");
  auto start = args.time("start", 0);
  auto end = args.time("end", 0);
  if (!type.empty() && type != "Warning" && type != "Normal")
    args.fail("type", "expected Warning or Normal, got \"" + type + "\"");
  if (args.failed())
    return args.error();
  params ps{{"start", start ? time_text(start) : ""},
            {"end", end ? time_text(end) : ""},
            {"limit", std::to_string(max_listing_items)}};
  tool_plan plan;
  plan.queries.push_back(rest_get(path, ps));
  plan.render = [ctx, type](const std::vector<http_response>& answers) {
    auto answer = read_answer(answers.at(0));
    if (!answer.ok)
      return failure(answer, "events_for");
    rapidjson::Document doc{rapidjson::kObjectType};
    auto& a = doc.GetAllocator();
    value events{rapidjson::kArrayType};
    // Newest first: the model reads the top of the list.
    auto list = items(at(answer.doc, "relatedEvents"));
    for (auto i = list.Size(); i-- > 0;) {
      const auto& record = list[i];
      const auto& event = at(record, "objectChanges");
      if (!event.IsObject())
        continue;
      if (!type.empty() && member_text(event, "type") != type)
        continue;
      value item{rapidjson::kObjectType};
      item.AddMember("id", value{at(record, "id"), a}, a);
      item.AddMember("timestamp", value{at(record, "timestamp"), a}, a);
      for (const char* name : {"type", "reason", "message", "count"})
        if (auto it = event.FindMember(name); it != event.MemberEnd())
          item.AddMember(rapidjson::StringRef(name), value{it->value, a}, a);
      events.PushBack(item, a);
    }
    doc.AddMember("items", events, a);
    return finish_result(doc, "items", ctx);
  };
  return plan;
}

/// One version by id; `paths` picks JSON Pointers out of its snapshot.
tool_outcome get_version(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto id = args.segment("id");
  auto paths = args.list("paths");
  for (const auto& p : paths)
    if (p.empty() || p.front() != '/')
      args.fail("paths",
                "each path must be a JSON Pointer such as "
                "/spec/replicas, not \""
                  + p + "\"");
  if (args.failed())
    return args.error();
  tool_plan plan;
  plan.queries.push_back(rest_get("/api/v1/records/" + id, {}));
  plan.render = [ctx, paths](const std::vector<http_response>& answers) {
    auto answer = read_answer(answers.at(0));
    if (!answer.ok)
      return failure(answer, "get_version");
    rapidjson::Document doc{rapidjson::kObjectType};
    auto& a = doc.GetAllocator();
    doc.AddMember("record", summarize_record(answer.doc, a), a);
    const auto& snapshot = at(answer.doc, "objectChanges");
    if (!snapshot.IsNull()) {
      if (paths.empty()) {
        doc.AddMember("object", value{snapshot, a}, a);
      } else {
        value picked{rapidjson::kObjectType};
        for (const auto& p : paths) {
          rapidjson::Pointer pointer{p.c_str()};
          const value* v = pointer.IsValid() ? pointer.Get(snapshot) : nullptr;
          picked.AddMember(text(p, a), v ? value{*v, a} : value{}, a);
        }
        doc.AddMember("paths", picked, a);
      }
    }
    return finish_result(doc, "", ctx);
  };
  return plan;
}

tool_outcome snapshot_at(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto at = args.time("at", ctx.now_ns);
  params ps{{"at", time_text(at)},
            {"namespace", args.text("namespace")},
            {"resourceType", args.text("resourceType")}};
  auto limit = args.count("limit", ctx.default_items, max_listing_items);
  auto cursor = read_cursor(args);
  if (args.failed())
    return args.error();
  return paged("/api/v1/snapshot", std::move(ps), cursor, limit, ctx,
               summary_item, "snapshot_at");
}

tool_outcome coverage(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto start = args.time("start", 0);
  auto end = args.time("end", 0);
  if (args.failed())
    return args.error();
  params ps{{"start", start ? time_text(start) : ""},
            {"end", end ? time_text(end) : ""}};
  return whole(rest_get("/api/v1/coverage", ps), ctx, "gaps", "coverage");
}

} // namespace

namespace {

/// A time argument: RFC 3339, or a duration before now.
std::string time_prop(std::string_view what) {
  return R"({"type":"string","description":")" + std::string{what}
  + R"j( (RFC 3339, or a duration before now such as 2h)"})j";
}

/// The arguments naming one object.
const std::string object_props
  = R"("namespace":{"type":"string","description":"the object's namespace; _cluster for a cluster-scoped object"},)"
    R"("resourceType":{"type":"string","description":"plural, kind or short name, e.g. deployments, Deployment, deploy"},)"
    R"("name":{"type":"string","description":"the object's name"})";

const std::string page_props
  = R"j("limit":{"type":"integer","minimum":1,"maximum":1000,"description":"items per answer (default 50)"},)j"
    R"("cursor":{"type":"string","description":"nextCursor of the previous answer"})";

/// The output of a listing: `items`, the paging members and `extra`
/// properties.
std::string listing_output(std::string_view extra = "") {
  return R"({"type":"object","properties":{"now":{"type":"string"},"truncated":{"type":"boolean"},)"
         R"("nextCursor":{"type":"string"},"coverageGaps":{"type":"integer"},)"
    + std::string{extra}
  + R"("items":{"type":"array","items":{"type":"object"}}},)"
    R"("required":["now","truncated","items"]})";
}

const std::string object_required
  = R"("required":["namespace","resourceType","name"]})";

} // namespace

void add_history_tools(std::vector<tool>& out) {
  out.push_back(
    {"what_changed", "What changed",
     "Objects changed in a time window (default the last hour), spec changes "
     "and deletes first, each with its net JSON Patch over the window, the "
     "paths it changed and the Kubernetes Events about it (Warning counts by "
     "reason). Status-only changes are left out unless includeStatus.",
     R"({"type":"object","properties":{)"
     R"j("window":{"type":"string","description":"how far back from end, e.g. 30m, 1h, 1d (default 1h)"},)j"
     R"("end":)"
       + time_prop("end of the window (default now)")
       + ","
         R"("namespace":{"type":"string"},)"
         R"("resourceTypes":{"type":"array","items":{"type":"string"},"maxItems":10,"description":"types to ask about (default every type); a cursor pages one type only"},)"
         R"("includeStatus":{"type":"boolean","description":"also objects whose only changes were to status"},)"
       + page_props + "}}",
     listing_output(
       R"("events":{"type":"object","properties":{"warningEvents":{"type":"integer"},)"
       R"("reasons":{"type":"object"}}},)"),
     what_changed});
  out.push_back(
    {"list_changes", "List recorded changes",
     "Recorded creates, updates and deletes, filtered like GET /api/v1/events, "
     "each shortened to what changed (message, changed paths, managers); ask "
     "get_version for a whole object.",
     R"({"type":"object","properties":{"start":)" + time_prop("oldest change")
       + R"(,"end":)" + time_prop("newest change")
       + ","
         R"("namespace":{"type":"string"},"resourceType":{"type":"string"},)"
         R"("resourceName":{"type":"string"},)"
         R"("verb":{"type":"string","enum":["create","update","delete"]},)"
         R"("user":{"type":"string"},"uid":{"type":"string"},)"
         R"("changeClass":{"type":"string","description":"comma list of spec, status, meta, none, event"},)"
         R"("path":{"type":"string","description":"JSON Pointer prefix of a changed path, e.g. /spec/template"},)"
         R"("order":{"type":"string","enum":["asc","desc"]},)"
       + page_props + "}}",
     listing_output(), list_changes});
  out.push_back(
    {"object_history", "Object history",
     "Every recorded version of one object (all its uids), oldest first, and "
     "the Kubernetes Events about it.",
     R"({"type":"object","properties":{)" + object_props + R"(,"start":)"
       + time_prop("oldest version") + R"(,"end":)"
       + time_prop("newest version")
       + R"(,"limit":{"type":"integer","minimum":1,"maximum":1000}},)"
       + object_required,
     R"({"type":"object","properties":{"now":{"type":"string"},"truncated":{"type":"boolean"},)"
     R"("items":{"type":"array"},"relatedEvents":{"type":"array"}},)"
     R"("required":["now","truncated","items","relatedEvents"]})",
     object_history});
  out.push_back(
    {"diff_versions", "Diff two versions",
     "The RFC 6902 JSON Patch from one version of an object to another "
     "(default: its last two versions), each operation with the field "
     "manager that made it.",
     R"({"type":"object","properties":{)" + object_props
       + ","
         R"("fromId":{"type":"string","description":"record id of the older version"},)"
         R"("toId":{"type":"string","description":"record id of the newer version"},)"
         R"("ignore":{"type":"array","items":{"type":"string"},"description":"pointer prefixes to leave out, e.g. status"}},)"
       + object_required,
     R"({"type":"object","properties":{"now":{"type":"string"},"truncated":{"type":"boolean"},)"
     R"("from":{"type":"object"},"to":{"type":"object"},"patch":{"type":"array"},)"
     R"("summary":{"type":"string"}},"required":["now","truncated","patch"]})",
     diff_versions});
  out.push_back(
    {"blame", "Who set each field",
     "For the version of an object current at a moment (default now): every "
     "field with the version, time and field manager that last changed it.",
     R"({"type":"object","properties":{)" + object_props + R"(,"at":)"
       + time_prop("the moment (default now)") + "}," + object_required,
     R"({"type":"object","properties":{"now":{"type":"string"},"truncated":{"type":"boolean"},)"
     R"("version":{"type":"object"},"fields":{"type":"array"}},)"
     R"("required":["now","truncated","fields"]})",
     blame});
  out.push_back(
    {"events_for", "Kubernetes Events about an object",
     "The Kubernetes Events about one object, newest first: type, reason, "
     "message and count.",
     R"({"type":"object","properties":{)" + object_props
       + R"(,"type":{"type":"string","enum":["Warning","Normal"]},"start":)"
       + time_prop("oldest Event") + R"(,"end":)" + time_prop("newest Event")
       + "}," + object_required,
     listing_output(), events_for});
  out.push_back(
    {"get_version", "One version",
     "One recorded version by its record id, with the whole object, or only "
     "the JSON Pointers in paths.",
     R"({"type":"object","properties":{)"
     R"j("id":{"type":"string","description":"a record id (16 hex digits)"},)j"
     R"("paths":{"type":"array","items":{"type":"string"},"description":"JSON Pointers to pick, e.g. /spec/replicas"}},)"
     R"("required":["id"]})",
     R"({"type":"object","properties":{"now":{"type":"string"},"truncated":{"type":"boolean"},)"
     R"("record":{"type":"object"},"object":{"type":"object"},"paths":{"type":"object"}},)"
     R"("required":["now","truncated","record"]})",
     get_version});
  out.push_back(
    {"snapshot_at", "State as of a moment",
     "Every object that existed at a moment, each as its version current "
     "then (shortened; get_version gives the whole object).",
     R"({"type":"object","properties":{"at":)"
       + time_prop("the moment (default now)")
       + ","
         R"("namespace":{"type":"string"},"resourceType":{"type":"string"},)"
       + page_props + "}}",
     listing_output(), snapshot_at});
  out.push_back(
    {"coverage", "Watch coverage",
     "The intervals in which a resource type was not watched (server down, "
     "before its first list, a broken watch), so that \"no changes\" can be "
     "trusted or not, and the types recorded only in part.",
     R"({"type":"object","properties":{"start":)" + time_prop("window start")
       + R"(,"end":)" + time_prop("window end") + "}}",
     R"({"type":"object","properties":{"now":{"type":"string"},"truncated":{"type":"boolean"},)"
     R"("gaps":{"type":"array"},"filtered":{"type":"array"}},)"
     R"("required":["now","truncated","gaps"]})",
     coverage});
}

} // namespace kws::mcp
