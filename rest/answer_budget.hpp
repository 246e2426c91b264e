// How many answers, and how many bytes of them, the server holds at once.
// An answer is built in memory and kept until its client has read it, so
// hundreds of slow readers of large pages would otherwise hold gigabytes: a
// request beyond the budget waits, in arrival order, until an earlier
// answer is written. Probes never ask (the server answers them itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

namespace kws::rest {

/// What an `answer_budget` allows at once.
struct answer_limits {
  /// Answers being built or written.
  size_t answers = 16;
  /// Bytes of written-out answers not yet read by their clients. A request
  /// starts while the total is below this, so one answer larger than it
  /// still goes out, alone.
  size_t bytes = size_t{64} << 20U;
};

/// Thread-safe; `start` callbacks run outside its lock, on the thread that
/// made room (they should post to their own executor).
class answer_budget {
public:
  explicit answer_budget(answer_limits limits);

  /// Calls `start` at once when the budget has room for one more answer,
  /// else when an earlier answer is released. Each started request must
  /// `release` once.
  void acquire(std::function<void()> start);

  /// A started request's answer was built: it holds `bytes` until released.
  void hold(size_t bytes);

  /// A started request is done (written, failed or dropped); frees what it
  /// held and starts the waiting requests that now fit.
  void release(size_t held_bytes);

  /// From now on nothing more starts (the server is stopping).
  void close();

  size_t answers() const;
  size_t bytes() const;
  size_t waiting() const;

private:
  bool has_room() const;

  const answer_limits limits_;
  mutable std::mutex mtx_;
  size_t answers_ = 0;
  size_t bytes_ = 0;
  bool closed_ = false;
  std::deque<std::function<void()>> waiting_;
};

} // namespace kws::rest
