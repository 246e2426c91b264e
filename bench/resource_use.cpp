// Reads the process's own accounting (/proc, mallinfo2, rusage, the
// thread CPU clock) and walks the store's directory, so that each phase
// reports figures taken the same way.
#include "bench/resource_use.hpp"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
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
  auto mi = mallinfo2();
  constexpr double mib = 1024.0 * 1024.0;
  return {static_cast<double>(current_rss_kib()) / 1024.0,
          static_cast<double>(mi.uordblks + mi.hblkhd) / mib,
          static_cast<double>(mi.fordblks) / mib};
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
