#include "kube/backoff.hpp"

#include <algorithm>

namespace kws::kube {

backoff::backoff(backoff_policy policy)
    : policy_(policy), base_(policy.initial) {}

std::chrono::milliseconds backoff::next(clock::time_point now, double unit) {
  // DelayWithReset: a long quiet stretch since the last backoff began means
  // the peer recovered in between, so start small again.
  if (started_ && now - last_start_ > policy_.reset_after)
    base_ = policy_.initial;
  started_ = true;
  last_start_ = now;
  unit = std::clamp(unit, 0.0, 1.0);
  auto base = base_;
  auto jitter = std::chrono::milliseconds{static_cast<int64_t>(
    unit * policy_.jitter * static_cast<double>(base.count()))};
  auto grown = std::chrono::milliseconds{
    static_cast<int64_t>(static_cast<double>(base.count()) * policy_.factor)};
  base_ = std::min(grown, policy_.cap);
  return base + jitter;
}

void backoff::reset() {
  base_ = policy_.initial;
  started_ = false;
}

} // namespace kws::kube
