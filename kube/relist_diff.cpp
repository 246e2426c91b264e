#include "kube/relist_diff.hpp"

#include "kube/wire.hpp"

#include <string_view>
#include <unordered_map>

namespace kws::kube {

relist_diff diff_relist(const std::vector<live_object>& known,
                        const list_result& fresh) {
  relist_diff result;
  // Index of each known key; the flag marks keys seen in the fresh list.
  std::unordered_map<std::string_view, std::pair<size_t, bool>> index;
  index.reserve(known.size());
  for (size_t i = 0; i < known.size(); ++i)
    index.emplace(known[i].key, std::pair{i, false});
  for (size_t i = 0; i < fresh.items.size(); ++i) {
    auto meta = parse_object_meta(fresh.items[i]);
    if (!meta || meta->name.empty()) {
      result.malformed.push_back(i);
      continue;
    }
    auto key = meta->key();
    auto j = index.find(key);
    if (j == index.end()) {
      result.creates.push_back(i);
      continue;
    }
    j->second.second = true;
    const auto& old = known[j->second.first];
    if (old.uid != meta->uid) {
      result.deletes.push_back(old);
      result.creates.push_back(i);
    } else if (old.resource_version != meta->resource_version) {
      result.updates.push_back(i);
    } else {
      ++result.num_unchanged;
    }
  }
  // Walk `known` (not the map) so deletes come out in a stable order.
  for (size_t i = 0; i < known.size(); ++i) {
    auto j = index.find(known[i].key);
    if (j->second.first == i && !j->second.second)
      result.deletes.push_back(known[i]);
  }
  return result;
}

} // namespace kws::kube
