#include "kube/resolver.hpp"

#include "util/ascii_case.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace kws::kube {

namespace {

bool names_match(const api_resource_info& info, std::string_view name) {
  if (ascii_iequals(info.type.plural, name)
      || ascii_iequals(info.singular, name)
      || ascii_iequals(info.type.kind, name))
    return true;
  return std::any_of(
    info.short_names.begin(), info.short_names.end(),
    [&](const std::string& s) { return ascii_iequals(s, name); });
}

/// True for strings shaped like a Kubernetes version: v1, v2beta1, v1alpha3.
bool looks_like_version(std::string_view x) {
  if (x.size() < 2 || x[0] != 'v'
      || !std::isdigit(static_cast<unsigned char>(x[1])))
    return false;
  size_t i = 1;
  while (i < x.size() && std::isdigit(static_cast<unsigned char>(x[i])))
    ++i;
  if (i == x.size())
    return true;
  auto rest = x.substr(i);
  for (std::string_view tag : {"alpha", "beta"}) {
    if (rest.starts_with(tag)) {
      rest.remove_prefix(tag.size());
      return !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      });
    }
  }
  return false;
}

} // namespace

resource_resolver::resource_resolver(std::vector<api_resource_info> infos)
    : infos_(std::move(infos)) {}

const api_resource_info*
resource_resolver::preferred_of(const api_resource_info& x) const {
  const api_resource_info* first = nullptr;
  for (const auto& info : infos_) {
    if (info.type.group != x.type.group || info.type.plural != x.type.plural)
      continue;
    if (info.preferred)
      return &info;
    if (first == nullptr)
      first = &info;
  }
  return first;
}

caf::expected<resource_type>
resource_resolver::resolve(std::string_view name) const {
  auto not_found = [&] {
    return caf::make_error(ec::not_found,
                           fmt::format("no resource type matches '{}'", name));
  };
  if (name.empty())
    return not_found();
  // Candidates: the whole name, then "<name>.<group>" and
  // "<name>.<version>.<group>" splits at every dot.
  struct split {
    std::string_view name;
    std::string_view version;
    std::string_view group;
    bool qualified;
  };
  std::vector<split> splits{{name, {}, {}, false}};
  for (auto dot = name.find('.'); dot != std::string_view::npos;
       dot = name.find('.', dot + 1)) {
    auto head = name.substr(0, dot);
    auto tail = name.substr(dot + 1);
    splits.push_back({head, {}, tail, true});
    auto dot2 = tail.find('.');
    auto version = tail.substr(0, dot2);
    if (looks_like_version(version))
      splits.push_back({head, version,
                        dot2 == std::string_view::npos ? std::string_view{}
                                                       : tail.substr(dot2 + 1),
                        true});
  }
  for (const auto& s : splits) {
    const api_resource_info* best = nullptr;
    for (const auto& info : infos_) {
      if (s.qualified && !ascii_iequals(info.type.group, s.group))
        continue;
      if (!s.version.empty() && !ascii_iequals(info.type.version, s.version))
        continue;
      if (!names_match(info, s.name))
        continue;
      if (!s.version.empty())
        return info.type;
      auto* pref = preferred_of(info);
      if (best == nullptr
          || (!best->type.group.empty() && pref->type.group.empty()))
        best = pref;
    }
    if (best != nullptr)
      return best->type;
  }
  return not_found();
}

caf::expected<resource_type>
resource_resolver::resolve_kind(std::string_view group_or_api_version,
                                std::string_view kind) const {
  std::string_view group = group_or_api_version;
  if (auto slash = group.find('/'); slash != std::string_view::npos)
    group = group.substr(0, slash);
  else if (looks_like_version(group))
    group = {}; // "v1": the core group
  const api_resource_info* insensitive = nullptr;
  for (const auto& info : infos_) {
    if (info.type.group != group)
      continue;
    if (info.type.kind == kind)
      return preferred_of(info)->type;
    if (insensitive == nullptr && ascii_iequals(info.type.kind, kind))
      insensitive = &info;
  }
  if (insensitive != nullptr)
    return preferred_of(*insensitive)->type;
  return caf::make_error(ec::not_found,
                         fmt::format("no resource type has kind '{}' in group "
                                     "'{}'",
                                     kind, group));
}

std::string guess_plural(std::string_view kind) {
  auto result = ascii_lower(kind);
  if (result.empty() || result == "endpoints")
    return result;
  if (result.back() == 's')
    return result + "es";
  if (result.back() == 'y')
    return result.substr(0, result.size() - 1) + "ies";
  return result + "s";
}

} // namespace kws::kube
