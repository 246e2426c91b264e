// what_changed: the change summary of a window (GET /api/v1/changes), spec
// changes and deletes first, with the Warnings around them summed up front.
// Several resource types are one query each, merged in the REST ranking.
#include "rest/mcp/json_out.hpp"
#include "rest/mcp/tool_support.hpp"
#include "rest/mcp/tools.hpp"
#include "util/time_format.hpp"

#include <algorithm>

namespace kws::mcp {

namespace {

using value = rapidjson::Value;
using alloc = rapidjson::Document::AllocatorType;
using params = std::vector<std::pair<std::string, std::string>>;

constexpr int64_t ns_per_hour = 3'600'000'000'000;
/// Types one call may name (one query each).
constexpr size_t max_types = 10;

value copy_item(const value& item, alloc& a) {
  return value{item, a};
}

/// The Warning Events about the changed objects, summed, and the Event
/// reasons of the objects that had any (the REST entries count reasons of
/// both types together): what went wrong around the changes, up front.
void warning_reasons(const value& entries, rapidjson::Document& doc) {
  auto& a = doc.GetAllocator();
  value by_reason{rapidjson::kObjectType};
  int64_t total = 0;
  for (const auto& entry : items(entries)) {
    const auto& events = at(entry, "events");
    if (int_at(events, "Warning") == 0)
      continue;
    total += int_at(events, "Warning");
    const auto& reasons = at(events, "reasons");
    if (!reasons.IsObject())
      continue;
    for (const auto& r : reasons.GetObject()) {
      if (!r.value.IsInt64())
        continue;
      auto it = by_reason.FindMember(r.name);
      if (it == by_reason.MemberEnd())
        by_reason.AddMember(value{r.name, a}, value{r.value.GetInt64()}, a);
      else
        it->value.SetInt64(it->value.GetInt64() + r.value.GetInt64());
    }
  }
  value summary{rapidjson::kObjectType};
  summary.AddMember("warningEvents", total, a);
  summary.AddMember("reasons", by_reason, a);
  doc.AddMember("events", summary, a);
}

bool spec_or_delete(const value& entry) {
  if (int_at(at(entry, "verbs"), "delete") > 0)
    return true;
  const auto& classes = items(at(entry, "changeClasses"));
  return std::any_of(classes.begin(), classes.end(), [](const value& c) {
    return c.IsString() && std::string_view{c.GetString()} == "spec";
  });
}

/// The ranking of GET /api/v1/changes: spec changes and deletes first, then
/// by Warning Events, then the most recently changed (ids grow with time).
bool ranks_before(const value* l, const value* r) {
  if (spec_or_delete(*l) != spec_or_delete(*r))
    return spec_or_delete(*l);
  auto wl = int_at(at(*l, "events"), "Warning");
  auto wr = int_at(at(*r, "events"), "Warning");
  if (wl != wr)
    return wl > wr;
  return member_text(*l, "last") > member_text(*r, "last");
}

/// One query per type, merged and cut to `limit`; no cursor (the REST pages
/// of several types cannot resume as one), `truncated` when anything was
/// left out.
tool_plan merged(const std::vector<std::string>& types, const params& base,
                 uint32_t limit, const call_context& ctx) {
  tool_plan plan;
  for (const auto& type : types) {
    auto ps = base;
    ps.emplace_back("resourceType", type);
    ps.emplace_back("limit", std::to_string(limit));
    plan.queries.push_back(rest_get("/api/v1/changes", ps));
  }
  plan.render = [limit, ctx](const std::vector<http_response>& answers) {
    std::vector<rest_answer> parsed;
    bool more = false;
    int64_t gaps = 0;
    for (const auto& res : answers) {
      parsed.push_back(read_answer(res));
      if (!parsed.back().ok)
        return failure(parsed.back(), "what_changed");
      more = more || !parsed.back().continue_token.empty();
      gaps += std::max<int64_t>(parsed.back().coverage_gaps, 0);
    }
    std::vector<const value*> entries;
    for (const auto& p : parsed)
      for (const auto& e : items(p.doc))
        entries.push_back(&e);
    std::stable_sort(entries.begin(), entries.end(), ranks_before);
    if (entries.size() > limit) {
      entries.resize(limit);
      more = true;
    }
    rapidjson::Document doc{rapidjson::kObjectType};
    auto& a = doc.GetAllocator();
    value list{rapidjson::kArrayType};
    for (const auto* e : entries)
      list.PushBack(value{*e, a}, a);
    warning_reasons(list, doc);
    doc.AddMember("items", list, a);
    doc.AddMember("coverageGaps", gaps, a);
    return finish_result(doc, "items", ctx, nullptr, more);
  };
  return plan;
}

} // namespace

tool_outcome what_changed(const rapidjson::Value& raw,
                          const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto window = args.duration("window", ns_per_hour);
  auto end = args.time("end", ctx.now_ns);
  auto ns = args.text("namespace");
  auto types = args.list("resourceTypes");
  bool with_status = args.flag("includeStatus", false);
  auto limit = args.count("limit", ctx.default_items, max_listing_items);
  auto cursor = read_cursor(args);
  if (types.size() > max_types)
    args.fail("resourceTypes", "name at most 10 types");
  else if (types.size() > 1 && (cursor.skip > 0 || !cursor.rest_token.empty()))
    args.fail("cursor",
              "answers about several types do not page; ask one "
              "type with a cursor");
  if (args.failed())
    return args.error();
  params ps{{"start", format_rfc3339(time_before(end, window))},
            {"end", format_rfc3339(end)},
            {"namespace", ns},
            {"changeClass", with_status ? "" : "spec,meta"}};
  if (types.size() > 1)
    return merged(types, ps, limit, ctx);
  ps.emplace_back("resourceType", types.empty() ? "" : types.front());
  return paged("/api/v1/changes", std::move(ps), cursor, limit, ctx, copy_item,
               "what_changed", warning_reasons);
}

} // namespace kws::mcp
