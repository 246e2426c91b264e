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

/// The parts one partition's record reads are handed out in: the ranges of
/// `split_reads`, except that fewer than `min_keys_per_reader` keys (the
/// record or few a history reads per day) become one part per key when
/// there are several readers. Outside the page cache each of them waits
/// for the disk in a block of its own; as parts of their own, the read
/// pool's helpers read them side by side once one has waited.
std::vector<std::pair<size_t, size_t>> read_parts(size_t keys,
                                                  unsigned readers);

} // namespace kws::storage
