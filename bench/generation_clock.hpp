// The time a measured phase spends generating its own events, so that it can
// be taken out of the phase's wall and CPU time.
#pragma once

#include "bench/resource_use.hpp"
#include "bench/workload.hpp"

#include <string>

namespace kws::bench {

struct generation_clock {
  clk::duration wall{};
  /// CPU seconds of the calling thread.
  double cpu_s = 0;

  /// Appends the next event of `w` to `out`, timing it.
  generated_event next(workload& w, std::string& out) {
    auto t0 = clk::now();
    auto c0 = thread_cpu_s();
    auto ev = w.next(out);
    cpu_s += thread_cpu_s() - c0;
    wall += clk::now() - t0;
    return ev;
  }
};

} // namespace kws::bench
