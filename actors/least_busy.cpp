#include "actors/least_busy.hpp"

#include <algorithm>
#include <cassert>

namespace kws {

least_busy::least_busy(size_t workers) : in_flight_(workers, 0) {
  assert(workers > 0);
}

size_t least_busy::acquire() {
  auto it = std::min_element(in_flight_.begin(), in_flight_.end());
  ++*it;
  return static_cast<size_t>(it - in_flight_.begin());
}

void least_busy::release(size_t worker) {
  assert(worker < in_flight_.size() && in_flight_[worker] > 0);
  --in_flight_[worker];
}

} // namespace kws
