// Reads the process's own accounting (/proc, the allocator's statistics,
// rusage, the thread CPU clock) and walks the store's directory, so that
// each phase reports figures taken the same way.
#include "bench/resource_use.hpp"

#if KWS_JEMALLOC
#  include <jemalloc/jemalloc.h>
#else
#  include <malloc.h>
#endif
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <system_error>

namespace kws::bench {

namespace fs = std::filesystem;

double seconds(clk::duration d) {
  return std::chrono::duration<double>(d).count();
}

long current_rss_kib() {
  long pages = 0, rss = 0;
  if (auto* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2)
      rss = 0;
    std::fclose(f);
  }
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

memory_split measure_memory() {
  constexpr double mib = 1024.0 * 1024.0;
  auto rss = static_cast<double>(current_rss_kib()) / 1024.0;
#if KWS_JEMALLOC
  // The statistics are a snapshot taken when the epoch advances.
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
  size_t allocated = 0;
  size_t resident = 0;
  len = sizeof(size_t);
  mallctl("stats.allocated", &allocated, &len, nullptr, 0);
  mallctl("stats.resident", &resident, &len, nullptr, 0);
  auto held = resident > allocated ? resident - allocated : 0;
  size_t metadata = 0;
  size_t dirty_pages = 0;
  size_t page = 0;
  mallctl("stats.metadata", &metadata, &len, nullptr, 0);
  mallctl("arenas.page", &page, &len, nullptr, 0);
  auto dirty = "stats.arenas." + std::to_string(MALLCTL_ARENAS_ALL) + ".pdirty";
  mallctl(dirty.c_str(), &dirty_pages, &len, nullptr, 0);
  return {rss, static_cast<double>(allocated) / mib,
          static_cast<double>(held) / mib,
          static_cast<double>(dirty_pages * page) / mib,
          static_cast<double>(metadata) / mib};
#else
  auto mi = mallinfo2();
  return {rss, static_cast<double>(mi.uordblks + mi.hblkhd) / mib,
          static_cast<double>(mi.fordblks) / mib, 0.0, 0.0};
#endif
}

double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

dir_size measure(const fs::path& dir) {
  dir_size r;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec))
      continue;
    auto n = e.file_size(ec);
    if (ec)
      continue;
    r.total += n;
    if (e.path().extension() == ".sst")
      r.sst += n;
  }
  return r;
}

} // namespace kws::bench
