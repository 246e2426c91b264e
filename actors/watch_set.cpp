#include "actors/watch_set.hpp"

#include "util/errors.hpp"
#include "util/json_fields.hpp"

#include <rapidjson/document.h>

#include <algorithm>

namespace kws {

namespace {

std::string str(const rapidjson::Value& obj, const char* key) {
  return std::string{json::string_member(obj, key)};
}

using json::member;

} // namespace

caf::expected<crd_info> parse_crd(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return caf::make_error(ec::parse_error,
                           "CustomResourceDefinition is not a JSON object");
  crd_info result;
  if (auto meta = member(doc, "metadata"))
    result.name = str(*meta, "name");
  auto spec = member(doc, "spec");
  auto status = member(doc, "status");
  if (result.name.empty() || !spec)
    return caf::make_error(ec::parse_error,
                           "CustomResourceDefinition lacks metadata.name or "
                           "spec");
  bool established = false;
  if (auto conds = status ? member(*status, "conditions") : nullptr;
      conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      if (str(c, "type") == "Established" && str(c, "status") == "True")
        established = true;
  if (!established)
    return result;
  resource_type rt;
  rt.group = str(*spec, "group");
  if (auto names = member(*spec, "names")) {
    rt.plural = str(*names, "plural");
    rt.kind = str(*names, "kind");
  }
  rt.namespaced = str(*spec, "scope") != "Cluster";
  // Watch the storage version: every object converts to it without loss.
  if (auto versions = member(*spec, "versions");
      versions && versions->IsArray()) {
    for (const auto& v : versions->GetArray()) {
      auto served = member(v, "served");
      if (!served || !served->IsBool() || !served->GetBool())
        continue;
      auto storage = member(v, "storage");
      if (rt.version.empty()
          || (storage && storage->IsBool() && storage->GetBool()))
        rt.version = str(v, "name");
    }
  }
  if (rt.group.empty() || rt.plural.empty() || rt.kind.empty()
      || rt.version.empty())
    return result;
  result.type = std::move(rt);
  return result;
}

std::vector<resource_type>
select_watched(const std::vector<resource_type>& configured,
               const std::vector<api_resource>& discovered,
               const std::map<std::string, resource_type>& crds, bool watch_all,
               bool discover_crds) {
  std::map<std::string, resource_type> result;
  if (watch_all) {
    for (const auto& r : discovered)
      if (r.preferred && r.watchable())
        result.emplace(r.type.group_resource(), r.type);
  } else {
    for (const auto& c : configured) {
      auto served = std::any_of(
        discovered.begin(), discovered.end(), [&](const api_resource& r) {
          return r.type.group == c.group && r.type.plural == c.plural;
        });
      if (served)
        result.emplace(c.group_resource(), c);
    }
  }
  if (discover_crds)
    for (const auto& [name, rt] : crds)
      result.emplace(rt.group_resource(), rt);
  // events.k8s.io serves the core Events again: watching both would record
  // each Event twice.
  if (result.contains("events"))
    result.erase("events.events.k8s.io");
  std::vector<resource_type> out;
  out.reserve(result.size());
  for (auto& [key, rt] : result)
    out.push_back(std::move(rt));
  return out;
}

} // namespace kws
