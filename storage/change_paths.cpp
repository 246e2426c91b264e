#include "storage/change_paths.hpp"

#include "storage/json_diff.hpp"

#include <rapidjson/document.h>

namespace kws::storage {

std::vector<std::string> record_changed_paths(std::string_view record) {
  constexpr std::string_view key = ",\"changedPaths\":";
  // Only the record's own members: the snapshot after them may hold
  // anything.
  auto end = record.find(",\"objectChanges\":");
  auto pos = record.substr(0, end).find(key);
  if (pos == std::string_view::npos)
    return {};
  auto text = record.substr(pos + key.size());
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(text.data(), text.size());
  std::vector<std::string> result;
  if (doc.HasParseError() || !doc.IsArray())
    return result;
  for (const auto& x : doc.GetArray())
    if (x.IsString())
      result.emplace_back(x.GetString(), x.GetStringLength());
  return result;
}

bool changed_under(std::string_view record, std::string_view prefix) {
  for (const auto& path : record_changed_paths(record))
    if (pointer_has_prefix(path, prefix))
      return true;
  return false;
}

} // namespace kws::storage
