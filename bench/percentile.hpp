// The nearest-rank percentile every benchmark reports.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace kws::bench {

/// The value at rank `p` (0..1) of `xs`, rounded to the nearest rank; 0
/// for none.
inline double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto idx
    = static_cast<size_t>(std::llround(p * static_cast<double>(xs.size() - 1)));
  return xs[std::min(idx, xs.size() - 1)];
}

} // namespace kws::bench
