// How point reads of many sorted keys are split over threads. RocksDB's
// MultiGet reads the blocks it needs one after another (this build has no
// io_uring), so a page of records outside the page cache waits for the disk
// once per block; several readers (read_pool.hpp) keep several of those
// waits in flight.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace kws::storage {

/// Fewest keys one range holds: a partition's keys are split only when each
/// reader gets this many, because handing a few cached records to another
/// thread costs more than reading them.
inline constexpr size_t min_keys_per_reader = 64;

/// Splits `keys` keys into at most `readers` contiguous `[begin, end)`
/// ranges of at least `min_keys_per_reader` keys (one range when there are
/// fewer), as even as possible, covering every key once, in order.
std::vector<std::pair<size_t, size_t>> split_reads(size_t keys,
                                                   unsigned readers);

} // namespace kws::storage
