#include "storage/coverage_message.hpp"

#include "util/errors.hpp"
#include "util/json_fields.hpp"
#include "util/json_parse.hpp"
#include "util/json_text.hpp"

namespace kws::storage {

namespace {

constexpr std::string_view head = R"({"coverage":)";

void append_gap(std::string& out, const coverage_gap& g) {
  out += R"({"groupResource":)";
  append_quoted_json(out, g.group_resource);
  out.append(R"(,"start":)").append(std::to_string(g.start_ns));
  out.append(R"(,"end":)").append(std::to_string(g.end_ns));
  out += R"(,"fromResourceVersion":)";
  append_quoted_json(out, g.from_resource_version);
  out += R"(,"toResourceVersion":)";
  append_quoted_json(out, g.to_resource_version);
  out += R"(,"reason":)";
  append_quoted_json(out, g.reason);
  out += '}';
}

} // namespace

kafka_message coverage_message(const std::vector<coverage_gap>& gaps,
                               const first_watch_map& first_watched,
                               std::string_view cluster) {
  kafka_message m;
  m.key.append(cluster).append("/coverage");
  m.value = head;
  m.value += '[';
  for (size_t i = 0; i < gaps.size(); ++i) {
    if (i > 0)
      m.value += ',';
    append_gap(m.value, gaps[i]);
  }
  m.value += R"(],"firstWatched":{)";
  bool first = true;
  for (const auto& [gr, ns] : first_watched) {
    if (!first)
      m.value += ',';
    first = false;
    append_quoted_json(m.value, gr);
    m.value.append(":").append(std::to_string(ns));
  }
  m.value += R"(},"cluster":)";
  append_quoted_json(m.value, cluster);
  m.value += '}';
  return m;
}

bool is_coverage_message(std::string_view value) {
  return value.starts_with(head);
}

caf::expected<hub_coverage> parse_coverage_message(std::string_view value) {
  auto bad = [](std::string what) {
    return caf::make_error(ec::invalid_argument,
                           "coverage message: " + std::move(what));
  };
  rapidjson::Document doc;
  if (json::parse(doc, value).IsError() || !doc.IsObject())
    return bad("not a JSON object");
  hub_coverage out;
  out.cluster = json::string_member(doc, "cluster");
  if (out.cluster.empty())
    return bad("names no cluster");
  const auto* list = json::member(doc, "coverage");
  if (!list || !list->IsArray())
    return bad("coverage is not a list");
  for (const auto& g : list->GetArray()) {
    const auto* start = g.IsObject() ? json::member(g, "start") : nullptr;
    const auto* end = g.IsObject() ? json::member(g, "end") : nullptr;
    if (!start || !end || !start->IsInt64() || !end->IsInt64())
      return bad("a gap without integer start and end");
    coverage_gap gap;
    gap.group_resource = json::string_member(g, "groupResource");
    gap.start_ns = start->GetInt64();
    gap.end_ns = end->GetInt64();
    gap.from_resource_version = json::string_member(g, "fromResourceVersion");
    gap.to_resource_version = json::string_member(g, "toResourceVersion");
    gap.reason = json::string_member(g, "reason");
    if (gap.end_ns < gap.start_ns)
      return bad("a gap that ends before it starts");
    out.gaps.push_back(std::move(gap));
  }
  const auto* firsts = json::member(doc, "firstWatched");
  if (!firsts || !firsts->IsObject())
    return bad("firstWatched is not an object");
  for (const auto& [gr, ns] : firsts->GetObject()) {
    if (!ns.IsInt64())
      return bad("the first-watch time of " + std::string{gr.GetString()}
                 + " is not an integer");
    out.first_watched[gr.GetString()] = ns.GetInt64();
  }
  return out;
}

} // namespace kws::storage
