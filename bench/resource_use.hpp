// What a bench phase costs the machine: wall and CPU time, resident memory
// split between heap and the rest, and bytes on disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

namespace kws::bench {

using clk = std::chrono::steady_clock;

double seconds(clk::duration d);

long current_rss_kib();

/// Where the process's memory is, for attributing a peak: the allocator's
/// heap in use and held free (jemalloc's statistics, or glibc's mallinfo2),
/// against the RSS. Of what jemalloc holds free: pages freed and not yet
/// given back (it does within its decay time) and its own metadata; the
/// rest is free space inside pages still partly in use.
struct memory_split {
  double rss_mb = 0;
  double heap_used_mb = 0;
  double heap_free_mb = 0;
  double heap_dirty_mb = 0;
  double heap_metadata_mb = 0;
};

memory_split measure_memory();

/// CPU seconds (user + system) of all threads of the process so far.
double process_cpu_s();

/// CPU seconds of the calling thread so far.
double thread_cpu_s();

struct dir_size {
  uint64_t total = 0;
  uint64_t sst = 0;
};

dir_size measure(const std::filesystem::path& dir);

} // namespace kws::bench
