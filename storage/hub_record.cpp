// The message is the stored record with `"cluster"` spliced in after `id`
// (export_message.cpp), so the id comes off the front as text and the rest
// is stored byte for byte; only the record's leading members are parsed,
// for the keys the store indexes by.
#include "storage/hub_record.hpp"

#include "storage/change_class.hpp"
#include "util/errors.hpp"
#include "util/json_fields.hpp"
#include "util/json_parse.hpp"
#include "util/time_format.hpp"

#include <charconv>

namespace kws::storage {

namespace {

caf::error bad(std::string what) {
  return caf::make_error(ec::parse_error,
                         "exported record: " + std::move(what));
}

std::optional<verb> parse_verb(std::string_view s) {
  if (s == "create")
    return verb::create;
  if (s == "update")
    return verb::update;
  if (s == "delete")
    return verb::remove;
  return std::nullopt;
}

/// "apps/v1" → {"apps", "v1"}; "v1" → {"", "v1"}.
std::pair<std::string_view, std::string_view>
split_api_version(std::string_view api_version) {
  auto slash = api_version.find('/');
  if (slash == std::string_view::npos)
    return {{}, api_version};
  return {api_version.substr(0, slash), api_version.substr(slash + 1)};
}

} // namespace

std::string format_link(std::string_view ns, std::string_view resource,
                        std::string_view name) {
  if (resource.empty() || name.empty())
    return {};
  std::string out;
  out.reserve(ns.size() + resource.size() + name.size() + 2);
  out.append(ns).append("/").append(resource).append("/").append(name);
  return out;
}

caf::expected<hub_record> parse_hub_record(std::string_view value,
                                           std::string_view link) {
  constexpr std::string_view head = R"({"id":")";
  if (!value.starts_with(head) || value.size() < head.size() + 18
      || value.substr(head.size() + 16, 2) != R"(",)")
    return bad("does not start with a 16-digit id");
  hub_record out;
  auto& ev = out.event;
  auto id = value.substr(head.size(), 16);
  auto [end, err]
    = std::from_chars(id.data(), id.data() + id.size(), ev.seq, 16);
  if (err != std::errc{} || end != id.data() + id.size() || ev.seq == 0)
    return bad("id " + std::string{id} + " is not a record id");
  ev.record.reserve(value.size() - head.size() - 17);
  ev.record.push_back('{');
  ev.record.append(value.substr(head.size() + 18));
  // Everything indexed precedes the object, which is last and the bulk.
  constexpr std::string_view object_key = R"(,"objectChanges":)";
  auto object_at = ev.record.find(object_key);
  std::string lead = object_at == std::string::npos
    ? ev.record
    : ev.record.substr(0, object_at) + "}";
  rapidjson::Document doc;
  if (json::parse(doc, lead).IsError() || !doc.IsObject())
    return bad("record " + std::string{id} + " is not a JSON object");
  using json::string_member;
  out.cluster = string_member(doc, "cluster");
  if (out.cluster.empty())
    return bad("record " + std::string{id} + " names no cluster");
  auto timestamp = parse_rfc3339(string_member(doc, "timestamp"));
  if (!timestamp)
    return bad("record " + std::string{id} + " has no valid timestamp");
  ev.timestamp_ns = *timestamp;
  auto action = parse_verb(string_member(doc, "verb"));
  if (!action)
    return bad("record " + std::string{id} + " has no valid verb");
  ev.action = *action;
  ev.resource = string_member(doc, "resourceType");
  ev.name = string_member(doc, "resourceName");
  if (ev.resource.empty() || ev.name.empty())
    return bad("record " + std::string{id}
               + " lacks resourceType or resourceName");
  ev.ns = string_member(doc, "namespace");
  auto [group, version] = split_api_version(string_member(doc, "apiVersion"));
  ev.group = group;
  out.type = resource_type{ev.group, std::string{version},
                           std::string{string_member(doc, "kind")}, ev.resource,
                           !ev.ns.empty()};
  ev.uid = string_member(doc, "uid");
  ev.resource_version = string_member(doc, "resourceVersion");
  ev.user = string_member(doc, "user");
  if (auto* fsu = json::member(doc, "finalStateUnknown"))
    ev.final_state_unknown = fsu->IsBool() && fsu->GetBool();
  if (ev.resource == "events"
      && (ev.group.empty() || ev.group == "events.k8s.io"))
    ev.warning = string_member(doc, "type") == "Warning";
  if (auto cls = parse_change_class(string_member(doc, "changeClass")))
    ev.stored_class = static_cast<uint8_t>(*cls);
  ev.enriched = true;
  if (!link.empty()) {
    auto first = link.find('/');
    auto second = first == std::string_view::npos ? std::string_view::npos
                                                  : link.find('/', first + 1);
    if (second == std::string_view::npos)
      return bad("record " + std::string{id} + " has a malformed link "
                 + std::string{link});
    ev.link_ns = link.substr(0, first);
    ev.link_resource = link.substr(first + 1, second - first - 1);
    ev.link_name = link.substr(second + 1);
  }
  return out;
}

} // namespace kws::storage
