// What an access-narrowed answer held: the (namespace, resourceType) of each
// record, for the tests that compare it with what RBAC allows.
#pragma once

#include <rapidjson/document.h>

#include <set>
#include <string>
#include <utility>

namespace kws::test {

/// (namespace, resourceType) of every record of a JSON array answer; empty
/// for anything else.
inline std::set<std::pair<std::string, std::string>>
record_owners(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  std::set<std::pair<std::string, std::string>> out;
  if (!doc.IsArray())
    return out;
  for (const auto& r : doc.GetArray())
    out.emplace(r["namespace"].GetString(), r["resourceType"].GetString());
  return out;
}

} // namespace kws::test
