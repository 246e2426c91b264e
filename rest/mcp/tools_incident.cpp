// The incident tools of the seed's MCP client, same names and arguments,
// answered from what the store knows about each change: Kubernetes Events
// by reason (from /changes), container states and node conditions (from the
// change messages), net patches, and the objects as of the window's end.
#include "rest/mcp/json_out.hpp"
#include "rest/mcp/tool_support.hpp"
#include "rest/mcp/tools.hpp"
#include "util/time_format.hpp"

#include <algorithm>
#include <array>

namespace kws::mcp {

namespace {

using value = rapidjson::Value;
using alloc = rapidjson::Document::AllocatorType;
using answers_t = std::vector<http_response>;

constexpr const char* records_limit = "1000";

struct window {
  std::string start;
  std::string end;
  /// The optional `namespace` of a namespaced tool; "" means every one.
  std::string ns = {};
};

/// The required `start_time`/`end_time` of every incident tool.
window read_window(arg_reader& args) {
  auto start = args.time("start_time", 0, true);
  auto end = args.time("end_time", 0, true);
  if (!args.failed() && start > end)
    args.fail("start_time", "is after end_time");
  return {format_rfc3339(start), format_rfc3339(end)};
}

/// The window and the optional `namespace` of a namespaced incident tool.
window read_window_in_namespace(arg_reader& args) {
  auto w = read_window(args);
  w.ns = args.text("namespace");
  return w;
}

http_request changes_of(const window& w, std::string type, std::string ns) {
  return rest_get("/api/v1/changes",
                  {{"start", w.start},
                   {"end", w.end},
                   {"resourceType", std::move(type)},
                   {"namespace", std::move(ns)},
                   {"limit", records_limit}});
}

http_request records_of(const window& w, std::string type, std::string ns,
                        std::string classes) {
  return rest_get("/api/v1/events",
                  {{"start", w.start},
                   {"end", w.end},
                   {"resourceType", std::move(type)},
                   {"namespace", std::move(ns)},
                   {"changeClass", std::move(classes)},
                   {"limit", records_limit}});
}

int64_t warnings_of(const value& entry) {
  return int_at(at(entry, "events"), "Warning");
}

/// The part of a change message after "<Verb> <type> <name>: ".
std::string_view message_detail(const value& record) {
  auto m = member_text(record, "message");
  auto colon = m.find(": ");
  return colon == std::string_view::npos ? std::string_view{}
                                         : m.substr(colon + 2);
}

/// A message that reports a container entering a waiting or terminated
/// state (the change enricher writes these).
bool names_container_state(std::string_view detail) {
  return detail.find("container ") != std::string_view::npos
    && (detail.find(" waiting: ") != std::string_view::npos
        || detail.find(" terminated: ") != std::string_view::npos);
}

/// A message that reports a node condition flip rather than changed paths.
bool names_condition(std::string_view detail) {
  return !detail.empty() && detail.front() != '/';
}

value key_of(const value& entry, alloc& a) {
  value out{rapidjson::kObjectType};
  if (!entry.IsObject())
    return out;
  for (const char* name : {"namespace", "resourceName", "uid"})
    if (auto it = entry.FindMember(name); it != entry.MemberEnd())
      out.AddMember(rapidjson::StringRef(name), value{it->value, a}, a);
  return out;
}

value moment(const value& record, alloc& a) {
  value out{rapidjson::kObjectType};
  if (!record.IsObject())
    return out;
  for (const char* name : {"id", "timestamp", "message"})
    if (auto it = record.FindMember(name); it != record.MemberEnd())
      out.AddMember(rapidjson::StringRef(name), value{it->value, a}, a);
  return out;
}

/// The object an entry or record is about, as "namespace/name".
std::string object_name(const value& v) {
  auto ns = member_text(v, "namespace");
  auto name = member_text(v, "resourceName");
  return ns.empty() ? std::string{name}
                    : std::string{ns} + "/" + std::string{name};
}

/// Per object of `changes`: its Warning count and reasons; plus the
/// messages of `records` that `keep` selects. Objects with neither are
/// left out; most Warnings first.
value objects_with_issues(const rapidjson::Document& changes,
                          const rapidjson::Document& records,
                          bool (*keep)(std::string_view), const char* what,
                          alloc& a) {
  std::vector<std::pair<std::string, value>> found;
  auto slot = [&](const value& v) -> value& {
    auto name = object_name(v);
    for (auto& [n, obj] : found)
      if (n == name)
        return obj;
    value obj = key_of(v, a);
    obj.AddMember("warnings", 0, a);
    obj.AddMember("reasons", value{rapidjson::kObjectType}, a);
    obj.AddMember(rapidjson::StringRef(what), value{rapidjson::kArrayType}, a);
    found.emplace_back(name, std::move(obj));
    return found.back().second;
  };
  for (const auto& entry : items(changes)) {
    auto n = warnings_of(entry);
    if (n == 0)
      continue;
    auto& obj = slot(entry);
    obj["warnings"].SetInt64(n);
    obj["reasons"].CopyFrom(at(at(entry, "events"), "reasons"), a);
  }
  for (const auto& record : items(records))
    if (keep(message_detail(record)))
      slot(record)[what].PushBack(moment(record, a), a);
  std::stable_sort(found.begin(), found.end(), [](auto& l, auto& r) {
    return l.second["warnings"].GetInt64() > r.second["warnings"].GetInt64();
  });
  value out{rapidjson::kArrayType};
  for (auto& [name, obj] : found)
    out.PushBack(obj, a);
  return out;
}

/// Runs the queries; the first failed answer fails the call.
template <class Render>
tool_plan plan_of(std::vector<http_request> queries, const char* what,
                  const call_context& ctx, Render render) {
  tool_plan plan;
  plan.queries = std::move(queries);
  plan.render = [what, ctx, render](const answers_t& answers) {
    std::vector<rest_answer> parsed;
    for (const auto& res : answers) {
      parsed.push_back(read_answer(res));
      if (!parsed.back().ok)
        return failure(parsed.back(), what);
    }
    rapidjson::Document doc{rapidjson::kObjectType};
    const char* items = render(parsed, doc);
    return finish_result(doc, items, ctx);
  };
  return plan;
}

tool_outcome check_node_health(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto w = read_window(args);
  if (args.failed())
    return args.error();
  return plan_of(
    {changes_of(w, "nodes", ""), records_of(w, "nodes", "", "status,spec")},
    "check_node_health", ctx,
    [](std::vector<rest_answer>& in, rapidjson::Document& doc) {
      auto& a = doc.GetAllocator();
      value nodes = objects_with_issues(in[0].doc, in[1].doc, names_condition,
                                        "conditionChanges", a);
      value deleted{rapidjson::kArrayType};
      for (const auto& entry : items(in[0].doc))
        if (int_at(at(entry, "verbs"), "delete") > 0)
          deleted.PushBack(value{at(entry, "resourceName"), a}, a);
      doc.AddMember("nodesChanged", items(in[0].doc).Size(), a);
      doc.AddMember("deleted", deleted, a);
      doc.AddMember("nodes", nodes, a);
      return "nodes";
    });
}

tool_outcome check_pod_issues(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto w = read_window_in_namespace(args);
  if (args.failed())
    return args.error();
  return plan_of(
    {changes_of(w, "pods", w.ns), records_of(w, "pods", w.ns, "status")},
    "check_pod_issues", ctx,
    [](std::vector<rest_answer>& in, rapidjson::Document& doc) {
      auto& a = doc.GetAllocator();
      doc.AddMember("pods",
                    objects_with_issues(in[0].doc, in[1].doc,
                                        names_container_state,
                                        "containerStates", a),
                    a);
      return "pods";
    });
}

/// Reasons of Kubernetes Events that mean a volume could not be used.
bool volume_reason(std::string_view reason) {
  static constexpr std::array reasons
    = {"FailedMount",     "FailedAttachVolume", "FailedDetachVolume",
       "FailedBinding",   "ProvisioningFailed", "VolumeResizeFailed",
       "FailedMapVolume", "VolumeFailedDelete", "FailedScheduling"};
  return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
}

/// The phase an entry's net patch sets, or "".
std::string_view phase_set(const value& entry) {
  for (const auto& op : items(at(entry, "patch")))
    if (member_text(op, "path") == "/status/phase")
      return member_text(op, "value");
  return {};
}

tool_outcome check_volume_issues(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto w = read_window_in_namespace(args);
  if (args.failed())
    return args.error();
  return plan_of(
    {changes_of(w, "persistentvolumeclaims", w.ns),
     changes_of(w, "persistentvolumes", ""), changes_of(w, "pods", w.ns)},
    "check_volume_issues", ctx,
    [](std::vector<rest_answer>& in, rapidjson::Document& doc) {
      auto& a = doc.GetAllocator();
      value issues{rapidjson::kArrayType};
      const char* kinds[]
        = {"PersistentVolumeClaim", "PersistentVolume", "Pod"};
      for (size_t i = 0; i < in.size(); ++i) {
        for (const auto& entry : items(in[i].doc)) {
          value reasons{rapidjson::kObjectType};
          const auto& all = at(at(entry, "events"), "reasons");
          if (all.IsObject())
            for (const auto& r : all.GetObject())
              if (volume_reason({r.name.GetString(), r.name.GetStringLength()}))
                reasons.AddMember(value{r.name, a}, value{r.value, a}, a);
          auto phase = phase_set(entry);
          bool bad_phase = phase == "Pending" || phase == "Lost"
            || phase == "Failed" || phase == "Released";
          if (reasons.MemberCount() == 0 && !bad_phase)
            continue;
          value item = key_of(entry, a);
          item.AddMember("kind", rapidjson::StringRef(kinds[i]), a);
          if (!phase.empty())
            item.AddMember("phase", text(phase, a), a);
          item.AddMember("reasons", reasons, a);
          item.AddMember("last", value{at(entry, "last"), a}, a);
          issues.PushBack(item, a);
        }
      }
      doc.AddMember("issues", issues, a);
      return "issues";
    });
}

tool_outcome analyze_recent_changes(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto w = read_window(args);
  auto types = args.list("resource_types");
  constexpr size_t max_types = 10;
  if (types.size() > max_types)
    args.fail("resource_types", "name at most 10 types");
  if (args.failed())
    return args.error();
  std::vector<http_request> queries;
  if (types.empty())
    queries.push_back(changes_of(w, "", ""));
  for (const auto& t : types)
    queries.push_back(changes_of(w, t, ""));
  return plan_of(std::move(queries), "analyze_recent_changes", ctx,
                 [](std::vector<rest_answer>& in, rapidjson::Document& doc) {
                   auto& a = doc.GetAllocator();
                   value by_type{rapidjson::kObjectType};
                   value changes{rapidjson::kArrayType};
                   for (auto& answer : in)
                     for (const auto& entry : items(answer.doc)) {
                       auto type = member_text(entry, "resourceType");
                       auto slot = by_type.FindMember(text(type, a));
                       if (slot == by_type.MemberEnd()) {
                         value counts{rapidjson::kObjectType};
                         for (const char* verb : {"create", "update", "delete"})
                           counts.AddMember(rapidjson::StringRef(verb), 0, a);
                         by_type.AddMember(text(type, a), counts, a);
                         slot = by_type.FindMember(text(type, a));
                       }
                       for (const char* verb : {"create", "update", "delete"})
                         slot->value[verb].SetInt64(
                           slot->value[verb].GetInt64()
                           + int_at(at(entry, "verbs"), verb));
                       // The net patch stays out of the overview; diff_versions
                       // has it.
                       value copy{entry, a};
                       if (copy.IsObject())
                         copy.RemoveMember("patch");
                       changes.PushBack(copy, a);
                     }
                   doc.AddMember("byType", by_type, a);
                   doc.AddMember("changes", changes, a);
                   return "changes";
                 });
}

tool_outcome investigate_pod_startup(const value& raw,
                                     const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto w = read_window(args);
  auto pod = args.segment("pod_name");
  auto ns = args.segment("namespace");
  if (args.failed())
    return args.error();
  return plan_of(
    {rest_get("/api/v1/events/" + ns + "/pods/" + pod,
              {{"start", w.start}, {"end", w.end}, {"limit", records_limit}})},
    "investigate_pod_startup", ctx,
    [](std::vector<rest_answer>& in, rapidjson::Document& doc) {
      auto& a = doc.GetAllocator();
      value timeline{rapidjson::kArrayType};
      value states{rapidjson::kArrayType};
      value events{rapidjson::kArrayType};
      for (const auto& r : items(at(in[0].doc, "watchEvents"))) {
        timeline.PushBack(summarize_record(r, a), a);
        if (names_container_state(message_detail(r)))
          states.PushBack(moment(r, a), a);
      }
      for (const auto& r : items(at(in[0].doc, "relatedEvents"))) {
        const auto& event = at(r, "objectChanges");
        if (!event.IsObject())
          continue;
        value e{rapidjson::kObjectType};
        e.AddMember("timestamp", value{at(r, "timestamp"), a}, a);
        for (const char* name : {"type", "reason", "message"})
          e.AddMember(rapidjson::StringRef(name),
                      text(member_text(event, name), a), a);
        events.PushBack(e, a);
      }
      doc.AddMember("containerStates", states, a);
      doc.AddMember("events", events, a);
      doc.AddMember("timeline", timeline, a);
      return "timeline";
    });
}

/// What a container's `resources` leaves unset.
value missing_resources(const value& container, alloc& a) {
  value missing{rapidjson::kArrayType};
  const auto& res = at(container, "resources");
  for (const char* kind : {"requests", "limits"})
    for (const char* what : {"cpu", "memory"}) {
      bool set = !at(at(res, kind), what).IsNull();
      if (!set)
        missing.PushBack(text(std::string{kind} + "." + what, a), a);
    }
  return missing;
}

tool_outcome check_resource_limits(const value& raw, const call_context& ctx) {
  arg_reader args{raw, ctx.now_ns};
  auto w = read_window_in_namespace(args);
  if (args.failed())
    return args.error();
  return plan_of(
    {rest_get("/api/v1/snapshot",
              {{"at", w.end},
               {"namespace", w.ns},
               {"resourceType", "pods"},
               {"limit", records_limit}}),
     records_of(w, "pods", w.ns, "status")},
    "check_resource_limits", ctx,
    [](std::vector<rest_answer>& in, rapidjson::Document& doc) {
      auto& a = doc.GetAllocator();
      value oom{rapidjson::kArrayType};
      for (const auto& r : items(in[1].doc))
        if (message_detail(r).find("OOMKilled") != std::string_view::npos)
          oom.PushBack(moment(r, a), a);
      value unbounded{rapidjson::kArrayType};
      for (const auto& r : items(in[0].doc)) {
        const auto& pod = at(r, "objectChanges");
        for (const auto& c : items(at(at(pod, "spec"), "containers"))) {
          auto missing = missing_resources(c, a);
          if (missing.Empty())
            continue;
          value item{rapidjson::kObjectType};
          item.AddMember("namespace", value{at(r, "namespace"), a}, a);
          item.AddMember("pod", value{at(r, "resourceName"), a}, a);
          item.AddMember("container", text(member_text(c, "name"), a), a);
          item.AddMember("missing", missing, a);
          unbounded.PushBack(item, a);
        }
      }
      doc.AddMember("oomKilled", oom, a);
      doc.AddMember("podsAtEnd", items(in[0].doc).Size(), a);
      doc.AddMember("containersWithoutLimits", unbounded, a);
      return "containersWithoutLimits";
    });
}

} // namespace

namespace {

const std::string window_props
  = R"j("start_time":{"type":"string","description":"window start, RFC 3339 (or a duration before now such as 2h)"},)j"
    R"j("end_time":{"type":"string","description":"window end, RFC 3339 (or a duration before now)"})j";

/// Input schema: the window, `extra` properties, and what is required.
std::string window_input(std::string_view extra,
                         std::string_view required
                         = R"("start_time","end_time")") {
  return R"({"type":"object","properties":{)" + window_props
    + std::string{extra} + R"(},"required":[)" + std::string{required} + "]}";
}

/// Output schema: the list `items`, and `extra` properties before it.
std::string output(std::string_view items, std::string_view extra = "") {
  auto name = std::string{items};
  return R"({"type":"object","properties":{"now":{"type":"string"},"truncated":{"type":"boolean"},)"
    + std::string{extra} + R"(")" + name
    + R"(":{"type":"array","items":{"type":"object"}}},"required":["now","truncated",")"
    + name + R"("]})";
}

constexpr std::string_view namespace_prop
  = R"(,"namespace":{"type":"string","description":"only this namespace"})";

} // namespace

void add_incident_tools(std::vector<tool>& out) {
  out.push_back(
    {"check_node_health", "Node health",
     "Nodes whose conditions flipped (Ready, MemoryPressure, ...) or that had "
     "Warning Events in the window, most Warnings first, and nodes deleted.",
     window_input(""),
     output("nodes",
            R"("nodesChanged":{"type":"integer"},"deleted":{"type":"array"},)"),
     check_node_health});
  out.push_back(
    {"check_pod_issues", "Pod issues",
     "Pods with Warning Events or containers entering a waiting or "
     "terminated state (CrashLoopBackOff, ImagePullBackOff, OOMKilled, ...) "
     "in the window, most Warnings first.",
     window_input(namespace_prop), output("pods"), check_pod_issues});
  out.push_back(
    {"check_volume_issues", "Volume issues",
     "PersistentVolumeClaims, PersistentVolumes and Pods with volume Events "
     "(FailedMount, FailedAttachVolume, ProvisioningFailed, ...) or a phase "
     "of Pending, Lost, Failed or Released in the window (PersistentVolumes "
     "are cluster-scoped: namespace does not narrow them).",
     window_input(namespace_prop), output("issues"), check_volume_issues});
  out.push_back(
    {"analyze_recent_changes", "Recent changes",
     "Every object changed in the window, spec changes and deletes first, "
     "with counts per resource type and verb.",
     window_input(
       R"j(,"resource_types":{"type":"string","description":"comma list of types, e.g. deployments,configmaps (default every type)"})j"),
     output("changes", R"("byType":{"type":"object"},)"),
     analyze_recent_changes});
  out.push_back(
    {"investigate_pod_startup", "Pod startup",
     "One Pod's versions in the window, its container state changes and the "
     "Kubernetes Events about it (scheduling, image pulls, probes).",
     window_input(
       R"(,"pod_name":{"type":"string"},"namespace":{"type":"string"})",
       R"("start_time","end_time","pod_name","namespace")"),
     output("timeline",
            R"("containerStates":{"type":"array"},"events":{"type":"array"},)"),
     investigate_pod_startup});
  out.push_back(
    {"check_resource_limits", "Resource limits",
     "Containers of the Pods existing at the window's end without CPU or "
     "memory requests or limits, and containers OOMKilled in the window.",
     window_input(namespace_prop),
     output("containersWithoutLimits",
            R"("oomKilled":{"type":"array"},"podsAtEnd":{"type":"integer"},)"),
     check_resource_limits});
}

const std::vector<tool>& tool_table() {
  static const std::vector<tool> table = [] {
    std::vector<tool> out;
    add_incident_tools(out);
    add_history_tools(out);
    return out;
  }();
  return table;
}

const tool* find_tool(std::string_view name) {
  for (const auto& t : tool_table())
    if (name == t.name)
      return &t;
  return nullptr;
}

} // namespace kws::mcp
