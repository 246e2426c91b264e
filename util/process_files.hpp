// The process's limit on open files. RocksDB keeps table files open within
// a budget taken from it (storage/rocks_options.cpp); the soft limit a
// shell or a systemd unit hands down is often 1,024 while the hard limit
// allows far more.
#pragma once

#include <cstdint>

namespace kws::process_files {

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (or, where the
/// kernel refuses that, leaves it), as Go programs do at start. Call
/// before opening stores: their budget is read from it then.
/// @returns the soft limit in effect afterwards.
uint64_t raise_soft_limit();

} // namespace kws::process_files
