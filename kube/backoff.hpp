// client-go's reflector backoff as a pure calculator: the caller injects the
// clock reading and the random numbers, so tests are exact.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace kws::kube {

/// Parameters of the exponential backoff (client-go's reflector defaults).
struct backoff_policy {
  /// First base delay.
  std::chrono::milliseconds initial{800};
  /// Growth factor of the base delay per step.
  double factor = 2.0;
  /// A delay is `base + u * jitter * base` with `u` uniform in [0, 1).
  double jitter = 1.0;
  /// Cap of the base delay; with jitter 1.0 delays reach [cap, 2 * cap).
  std::chrono::milliseconds cap{30000};
  /// The base delay starts over when this much time passed since the last
  /// backoff began (a healthy stretch).
  std::chrono::milliseconds reset_after{std::chrono::minutes{2}};
};

/// Exponential backoff with jitter and reset, as in apimachinery's
/// `wait.Backoff` driven by `DelayWithReset`.
class backoff {
public:
  using clock = std::chrono::steady_clock;

  explicit backoff(backoff_policy policy = {});

  /// Returns the next delay.
  /// @param now the current time (injected for tests).
  /// @param unit a random number in [0, 1) for the jitter.
  std::chrono::milliseconds next(clock::time_point now, double unit);

  /// Forgets the history: the next delay uses the initial base again.
  void reset();

  /// The base delay the next call will use (before jitter), for tests and
  /// status output.
  std::chrono::milliseconds current_base() const { return base_; }

  const backoff_policy& policy() const { return policy_; }

private:
  backoff_policy policy_;
  std::chrono::milliseconds base_;
  clock::time_point last_start_{};
  bool started_ = false;
};

} // namespace kws::kube
