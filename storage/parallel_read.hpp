// Point reads of many sorted keys, split over threads. RocksDB's MultiGet
// reads the blocks it needs one after another (this build has no io_uring),
// so a page of records outside the page cache waits for the disk once per
// block; several readers keep several of those waits in flight.
#pragma once

#include <rocksdb/db.h>

#include <cstddef>
#include <utility>
#include <vector>

namespace kws::storage {

/// Fewest keys one reader is given, so that the few records a history reads
/// per day stay on the calling thread, which starting a thread would slow
/// down when their blocks are cached.
inline constexpr size_t min_keys_per_reader = 64;

/// Splits `keys` keys into at most `readers` contiguous `[begin, end)`
/// ranges of at least `min_keys_per_reader` keys (one range when there are
/// fewer), as even as possible, covering every key once, in order.
std::vector<std::pair<size_t, size_t>> split_reads(size_t keys,
                                                   unsigned readers);

/// `db->MultiGet` of `keys` (sorted) in `family`, with the ranges of
/// `split_reads(keys.size(), readers)` read concurrently: the first on the
/// calling thread, the others on threads of their own. `values` and
/// `statuses` must have `keys.size()` elements. When no thread can be
/// started, the range is read on the calling thread.
void parallel_multi_get(rocksdb::DB* db, const rocksdb::ReadOptions& ro,
                        rocksdb::ColumnFamilyHandle* family,
                        std::vector<rocksdb::Slice>& keys,
                        std::vector<rocksdb::PinnableSlice>& values,
                        std::vector<rocksdb::Status>& statuses,
                        unsigned readers);

} // namespace kws::storage
