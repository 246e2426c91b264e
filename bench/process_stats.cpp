#include "bench/process_stats.hpp"

#include <cstdio>

namespace kws::bench {

long peak_rss_kib() {
  long kib = 0;
  if (auto* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1)
        break;
    std::fclose(f);
  }
  return kib;
}

void reset_peak_rss() {
  if (auto* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
}

} // namespace kws::bench
