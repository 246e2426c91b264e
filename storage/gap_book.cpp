#include "storage/gap_book.hpp"

#include <algorithm>
#include <mutex>
#include <tuple>

namespace kws::storage {

namespace {

auto order_key(const coverage_gap& g) {
  return std::tie(g.start_ns, g.group_resource, g.end_ns);
}

bool before(const coverage_gap& a, const coverage_gap& b) {
  return order_key(a) < order_key(b);
}

} // namespace

void gap_book::add(const std::vector<coverage_gap>& gaps) {
  std::unique_lock guard{mtx_};
  for (const auto& gap : gaps) {
    auto at = std::lower_bound(gaps_.begin(), gaps_.end(), gap, before);
    if (at != gaps_.end() && order_key(*at) == order_key(gap))
      *at = gap;
    else
      gaps_.insert(at, gap);
  }
}

size_t gap_book::forget_ending_before(int64_t ns) {
  std::unique_lock guard{mtx_};
  return std::erase_if(gaps_,
                       [ns](const coverage_gap& g) { return g.end_ns < ns; });
}

std::vector<coverage_gap> gap_book::overlapping(int64_t start_ns,
                                                int64_t end_ns) const {
  std::shared_lock guard{mtx_};
  std::vector<coverage_gap> result;
  result.reserve(gaps_.size());
  for (const auto& g : gaps_) {
    // Ordered by start: none after this one starts inside the window.
    if (g.start_ns > end_ns)
      break;
    if (g.end_ns >= start_ns)
      result.push_back(g);
  }
  return result;
}

size_t gap_book::count(int64_t start_ns, int64_t end_ns,
                       std::string_view resource) const {
  std::shared_lock guard{mtx_};
  size_t n = 0;
  for (const auto& g : gaps_) {
    if (g.start_ns > end_ns)
      break;
    if (g.end_ns >= start_ns && gap_of(g, resource))
      ++n;
  }
  return n;
}

size_t gap_book::size() const {
  std::shared_lock guard{mtx_};
  return gaps_.size();
}

} // namespace kws::storage
