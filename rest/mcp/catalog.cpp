#include "rest/mcp/catalog.hpp"

#include "rest/mcp/json_out.hpp"
#include "rest/mcp/tool_support.hpp"
#include "util/time_format.hpp"

namespace kws::mcp {

namespace {

std::string arg(const std::map<std::string, std::string>& args,
                const char* name, const char* fallback) {
  auto it = args.find(name);
  return it == args.end() || it->second.empty() ? fallback : it->second;
}

std::string pod_failure(const std::map<std::string, std::string>& a) {
  auto window = arg(a, "time_window", "1h");
  return "Pod " + arg(a, "namespace", "default") + "/" + arg(a, "pod_name", "")
    + " is failing. Over the last " + window
    + ": call investigate_pod_startup (start_time " + window
    + ", end_time now) for its container states and Events, "
      "check_pod_issues for its namespace, then what_changed (window "
    + window
    + ") to find the spec change, ConfigMap or Secret edit that came "
      "before the failure; use diff_versions on the suspect object. "
      "Report the root cause with record ids and times.";
}

std::string cluster_health(const std::map<std::string, std::string>& a) {
  auto window = arg(a, "time_window", "1h");
  auto focus = arg(a, "focus_area", "everything");
  return "Diagnose the cluster's health over the last " + window
    + ", focusing on " + focus
    + ". Call check_node_health, check_pod_issues and check_volume_issues "
      "(start_time "
    + window
    + ", end_time now), then what_changed for the spec changes in the "
      "same window. Call coverage first: a gap means missing history. "
      "Summarize problems by severity with the objects and times.";
}

std::string rollout(const std::map<std::string, std::string>& a) {
  auto window = arg(a, "time_window", "1h");
  auto ns = arg(a, "namespace", "default");
  auto name = arg(a, "deployment_name", "");
  return "Analyze the rollout of Deployment " + ns + "/" + name
    + " over the last " + window + ". Call object_history (namespace " + ns
    + ", resourceType deployments, name " + name
    + "), diff_versions for its spec changes, blame for who set "
      "/spec/replicas and the image, events_for its Warning Events, and "
      "check_pod_issues in "
    + ns + ". Say what changed, who changed it and whether it succeeded.";
}

std::string volume(const std::map<std::string, std::string>& a) {
  auto ns = arg(a, "namespace", "default");
  auto pvc = arg(a, "pvc_name", "");
  return "Troubleshoot PersistentVolumeClaim " + ns + "/" + pvc
    + ". Call check_volume_issues (start_time 24h, end_time now, namespace "
    + ns
    + "), object_history and events_for (resourceType "
      "persistentvolumeclaims, name "
    + pvc
    + ") and what_changed for StorageClasses and PersistentVolumes. "
      "Explain why it is not bound or not mounted.";
}

constexpr int64_t ns_per_hour = 3'600'000'000'000;

} // namespace

const std::vector<prompt>& prompt_table() {
  static const std::vector<prompt> table{
    {"investigate_pod_failure",
     "Investigate a failing Pod",
     "Find why a Pod fails: its container states, Events and the changes "
     "before it.",
     {{"pod_name", "the Pod's name", true},
      {"namespace", "the Pod's namespace", true},
      {"time_window", "how far back to look, e.g. 1h (default 1h)", false}},
     pod_failure},
    {"diagnose_cluster_health",
     "Diagnose cluster health",
     "Nodes, Pods and volumes with problems, and the changes around them.",
     {{"time_window", "how far back to look, e.g. 1h (default 1h)", false},
      {"focus_area", "nodes, pods, volumes or everything", false}},
     cluster_health},
    {"analyze_deployment_rollout",
     "Analyze a Deployment rollout",
     "What a Deployment's rollout changed, who changed it and how it went.",
     {{"deployment_name", "the Deployment's name", true},
      {"namespace", "its namespace", true},
      {"time_window", "how far back to look, e.g. 1h (default 1h)", false}},
     rollout},
    {"troubleshoot_volume_issues",
     "Troubleshoot a volume",
     "Why a PersistentVolumeClaim is not bound or not mounted.",
     {{"pvc_name", "the claim's name", true},
      {"namespace", "its namespace", true}},
     volume},
  };
  return table;
}

const prompt* find_prompt(std::string_view name) {
  for (const auto& p : prompt_table())
    if (name == p.name)
      return &p;
  return nullptr;
}

const std::vector<resource_template>& resource_templates() {
  static const std::vector<resource_template> table{
    {"audit://events/{namespace}", "namespace-changes",
     "Changes recorded in a namespace over the last 24 hours (newest first)"},
    {"audit://events/{namespace}/{resource_type}", "namespace-type-changes",
     "Changes of one resource type in a namespace over the last 24 hours"},
    {"audit://changes/{time_range}", "changed-objects",
     "Objects changed over a time range such as 1h, 24h or 7d, spec changes "
     "first"},
    {"audit://node-events/{node_name}", "node-history",
     "A Node's versions and the Kubernetes Events about it, last 24 hours"},
  };
  return table;
}

std::optional<tool_plan> read_resource(std::string_view uri,
                                       const call_context& ctx) {
  auto since = [&](int64_t ns) { return format_rfc3339(ctx.now_ns - ns); };
  std::vector<std::string> parts;
  constexpr std::string_view scheme = "audit://";
  if (!uri.starts_with(scheme))
    return std::nullopt;
  auto rest = uri.substr(scheme.size());
  for (size_t pos = 0; pos <= rest.size();) {
    auto slash = rest.find('/', pos);
    if (slash == std::string_view::npos)
      slash = rest.size();
    parts.emplace_back(rest.substr(pos, slash - pos));
    pos = slash + 1;
  }
  for (const auto& p : parts)
    if (p.empty() || p == "." || p == "..")
      return std::nullopt;
  http_request query;
  if (parts[0] == "events" && (parts.size() == 2 || parts.size() == 3)) {
    query = rest_get("/api/v1/events",
                     {{"namespace", parts[1]},
                      {"resourceType", parts.size() == 3 ? parts[2] : ""},
                      {"start", since(24 * ns_per_hour)},
                      {"order", "desc"},
                      {"limit", std::to_string(ctx.default_items)}});
  } else if (parts[0] == "changes" && parts.size() == 2) {
    auto range = parse_duration(parts[1]);
    if (!range)
      return std::nullopt;
    query = rest_get(
      "/api/v1/changes",
      {{"start", since(*range)}, {"limit", std::to_string(ctx.default_items)}});
  } else if (parts[0] == "node-events" && parts.size() == 2) {
    query = rest_get("/api/v1/events/_cluster/nodes/"
                       + escape_path_segment(parts[1]),
                     {{"start", since(24 * ns_per_hour)}});
  } else {
    return std::nullopt;
  }
  tool_plan plan;
  plan.queries.push_back(std::move(query));
  plan.render = [](const std::vector<http_response>& answers) {
    auto answer = read_answer(answers.at(0));
    if (!answer.ok)
      return failure(answer, "resource");
    // Records go out without their snapshots, as in the tools' listings.
    rapidjson::Document out;
    auto& a = out.GetAllocator();
    auto shorten = [&a](const rapidjson::Value& list) {
      rapidjson::Value items{rapidjson::kArrayType};
      for (const auto& r : list.GetArray())
        items.PushBack(at(r, "objectChanges").IsNull() ? rapidjson::Value{r, a}
                                                       : summarize_record(r, a),
                       a);
      return items;
    };
    if (answer.doc.IsArray()) {
      out.CopyFrom(shorten(answer.doc), a);
    } else {
      out.CopyFrom(answer.doc, a);
      for (const char* name : {"watchEvents", "relatedEvents"})
        if (out.IsObject() && out.HasMember(name) && out[name].IsArray())
          out[name] = shorten(out[name]);
    }
    tool_result r;
    r.structured = stringify(out);
    return r;
  };
  return plan;
}

} // namespace kws::mcp
