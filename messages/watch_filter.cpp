#include "messages/watch_filter.hpp"

#include <algorithm>

namespace kws {

watch_filter watch_filters::for_type(const resource_type& type) const {
  watch_filter result;
  if (auto it = by_type.find(type.group_resource()); it != by_type.end())
    result = it->second;
  if (!type.namespaced) {
    result.namespaces.clear();
    result.exclude_namespaces.clear();
    return result;
  }
  if (result.namespaces.empty())
    result.namespaces = namespaces;
  for (const auto& ns : exclude_namespaces)
    if (std::find(result.exclude_namespaces.begin(),
                  result.exclude_namespaces.end(), ns)
        == result.exclude_namespaces.end())
      result.exclude_namespaces.push_back(ns);
  return result;
}

} // namespace kws
