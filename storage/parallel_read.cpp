#include "storage/parallel_read.hpp"

#include <algorithm>

namespace kws::storage {

std::vector<std::pair<size_t, size_t>> split_reads(size_t keys,
                                                   unsigned readers) {
  const size_t count
    = std::clamp<size_t>(keys / min_keys_per_reader, 1, std::max(readers, 1u));
  std::vector<std::pair<size_t, size_t>> ranges;
  ranges.reserve(count);
  for (size_t i = 0; i < count; ++i)
    ranges.emplace_back(keys * i / count, keys * (i + 1) / count);
  return ranges;
}

std::vector<std::pair<size_t, size_t>> read_parts(size_t keys,
                                                  unsigned readers) {
  if (readers < 2 || keys < 2 || keys >= min_keys_per_reader)
    return split_reads(keys, readers);
  std::vector<std::pair<size_t, size_t>> parts;
  parts.reserve(keys);
  for (size_t k = 0; k < keys; ++k)
    parts.emplace_back(k, k + 1);
  return parts;
}

} // namespace kws::storage
