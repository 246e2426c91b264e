#include "storage/parallel_read.hpp"

#include <algorithm>
#include <future>
#include <system_error>

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

void parallel_multi_get(rocksdb::DB* db, const rocksdb::ReadOptions& ro,
                        rocksdb::ColumnFamilyHandle* family,
                        std::vector<rocksdb::Slice>& keys,
                        std::vector<rocksdb::PinnableSlice>& values,
                        std::vector<rocksdb::Status>& statuses,
                        unsigned readers) {
  auto ranges = split_reads(keys.size(), readers);
  // Sorted input lets RocksDB walk each file once per range.
  auto read = [&](std::pair<size_t, size_t> r) {
    db->MultiGet(ro, family, r.second - r.first, keys.data() + r.first,
                 values.data() + r.first, statuses.data() + r.first, true);
  };
  std::vector<std::future<void>> others;
  others.reserve(ranges.size());
  for (size_t i = 1; i < ranges.size(); ++i) {
    try {
      others.push_back(std::async(std::launch::async, read, ranges[i]));
    } catch (const std::system_error&) {
      read(ranges[i]); // No thread to spare: read it here instead.
    }
  }
  read(ranges.front()); // split_reads never returns an empty list.
  for (auto& f : others)
    f.get();
}

} // namespace kws::storage
