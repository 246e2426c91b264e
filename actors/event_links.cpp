#include "actors/event_links.hpp"

namespace kws {

namespace {

std::string group_of(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? std::string{}
                                    : api_version.substr(0, slash);
}

} // namespace

void kind_index::reset(const std::vector<resource_type>& types) {
  by_group_kind_.clear();
  by_kind_.clear();
  for (const auto& t : types) {
    by_group_kind_[{t.group, t.kind}] = t.plural;
    by_kind_.emplace(t.kind, t.plural); // first group wins; core comes first
  }
}

std::string kind_index::plural(const std::string& api_version,
                               const std::string& kind) const {
  if (!api_version.empty()) {
    auto i = by_group_kind_.find({group_of(api_version), kind});
    if (i != by_group_kind_.end())
      return i->second;
  }
  auto i = by_kind_.find(kind);
  return i == by_kind_.end() ? std::string{} : i->second;
}

size_t link_events(std::vector<resource_event>& events,
                   const kind_index& kinds) {
  size_t result = 0;
  for (auto& ev : events) {
    if (ev.involved_kind.empty() || ev.involved_name.empty())
      continue;
    auto plural = kinds.plural(ev.involved_api_version, ev.involved_kind);
    if (plural.empty())
      continue;
    ev.link_ns = ev.involved_ns;
    ev.link_resource = std::move(plural);
    ev.link_name = ev.involved_name;
    ++result;
  }
  return result;
}

} // namespace kws
