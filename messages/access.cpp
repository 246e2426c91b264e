#include "messages/access.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>

namespace kws {

namespace {

/// A key made of parts (`ns`, "/", `resource`, ".", `group`), compared
/// with a stored key without being built: `allows` runs once per record a
/// query reads.
struct parts_key {
  std::array<std::string_view, 5> parts;
  size_t count = 0;

  /// Negative, zero or positive as this key orders before, equal to or
  /// after `text`.
  int compare(std::string_view text) const {
    for (size_t i = 0; i < count; ++i) {
      auto part = parts[i];
      auto n = std::min(part.size(), text.size());
      if (auto c = part.substr(0, n).compare(text.substr(0, n)); c != 0)
        return c;
      if (part.size() > n)
        return 1;
      text.remove_prefix(n);
    }
    return text.empty() ? 0 : -1;
  }
};

size_t key_size(const parts_key& key) {
  size_t n = 0;
  for (size_t i = 0; i < key.count; ++i)
    n += key.parts[i].size();
  return n;
}

parts_key key_of(std::string_view ns, std::string_view resource,
                 std::string_view group) {
  parts_key key;
  auto add = [&key](std::string_view part) { key.parts[key.count++] = part; };
  if (!ns.empty()) {
    add(ns);
    add("/");
  }
  add(resource);
  if (!group.empty()) {
    add(".");
    add(group);
  }
  return key;
}

bool contains(const std::vector<std::string>& sorted, const parts_key& key) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), key,
                             [](const std::string& item, const parts_key& k) {
                               return k.compare(item) > 0;
                             });
  return it != sorted.end() && key.compare(*it) == 0;
}

} // namespace

bool allows(const access_filter& filter, std::string_view ns,
            std::string_view resource, std::string_view group) {
  if (filter.everything)
    return true;
  if (contains(filter.cluster_types, key_of({}, resource, group)))
    return true;
  return !ns.empty()
    && contains(filter.namespace_types, key_of(ns, resource, group));
}

bool allows_any_group(const access_filter& filter, std::string_view ns,
                      std::string_view resource) {
  if (filter.everything)
    return true;
  // "resource" itself or "resource.<group>": the first key not before
  // "resource" is one of them if any is there.
  auto any_in = [](const std::vector<std::string>& sorted,
                   const parts_key& key) {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), key,
                               [](const std::string& item, const parts_key& k) {
                                 return k.compare(item) > 0;
                               });
    for (; it != sorted.end(); ++it) {
      auto c = key.compare(
        std::string_view{*it}.substr(0, std::min(it->size(), key_size(key))));
      if (c != 0)
        return false;
      if (it->size() == key_size(key) || (*it)[key_size(key)] == '.')
        return true;
    }
    return false;
  };
  if (any_in(filter.cluster_types, key_of({}, resource, {})))
    return true;
  return !ns.empty()
    && any_in(filter.namespace_types, key_of(ns, resource, {}));
}

std::optional<record_owner_info> record_owner(std::string_view record) {
  rapidjson::Document doc;
  doc.Parse(record.data(), record.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::nullopt;
  auto text = [&doc](const char* name) -> std::optional<std::string> {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsString())
      return std::nullopt;
    return std::string{it->value.GetString(), it->value.GetStringLength()};
  };
  auto ns = text("namespace");
  auto plural = text("resourceType");
  auto api_version = text("apiVersion");
  if (!ns || !plural || !api_version || plural->empty())
    return std::nullopt;
  record_owner_info out;
  out.ns = *ns;
  out.type.plural = *plural;
  out.type.namespaced = !ns->empty();
  auto slash = api_version->find('/');
  if (slash != std::string::npos) {
    out.type.group = api_version->substr(0, slash);
    out.type.version = api_version->substr(slash + 1);
  } else {
    out.type.version = *api_version;
  }
  return out;
}

} // namespace kws
