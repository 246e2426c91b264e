// Which of several equal workers gets the next request: the one with the
// fewest requests in flight. Pure bookkeeping, no actors: the HTTP HANDLER
// spreads queries over its INDEX actors with it, so one slow page does not
// hold up the histories queued behind it.
#pragma once

#include <cstddef>
#include <vector>

namespace kws {

/// Counts the requests each of `workers` workers has in flight.
class least_busy {
public:
  /// @pre `workers > 0`.
  explicit least_busy(size_t workers);

  /// Picks the worker with the fewest requests in flight (the first of
  /// equals) and counts one more request for it.
  size_t acquire();

  /// Counts the answer (or failure) of one request of `worker`.
  /// @pre `acquire` returned `worker` more often than `release` took it.
  void release(size_t worker);

  /// The requests of `worker` still in flight.
  size_t in_flight(size_t worker) const { return in_flight_[worker]; }

private:
  std::vector<size_t> in_flight_;
};

} // namespace kws
