// Threads that help a query wait for the disk. RocksDB in this build reads
// the blocks of one call one after another, and a block outside the page
// cache waits for the disk; a query that reads several independent places
// (the record ranges of a page, the days of a history) gets them in flight
// together by handing some of them to these threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kws::storage {

/// A fixed set of threads that run the parts of `run` calls. The calling
/// thread always works on its own call too, so a call finishes even when
/// every helper is busy with other calls. A caller may work alone until a
/// part turns out slow: parts whose blocks are cached take microseconds,
/// and on few cores waking helpers for them costs more than it saves.
class read_pool {
public:
  /// Starts up to `helpers` threads; fewer when the system refuses one.
  explicit read_pool(unsigned helpers);
  ~read_pool();

  read_pool(const read_pool&) = delete;
  read_pool& operator=(const read_pool&) = delete;

  /// Threads that help callers (not counting the caller).
  size_t helpers() const { return threads_.size(); }

  /// Calls `part(i)` once for each `i` in `[0, parts)`, on the calling
  /// thread and on helpers, and returns when all calls have returned. The
  /// caller runs parts alone until one of them takes `slow_part` or
  /// longer, then asks helpers to take the parts left; with zero, helpers
  /// are asked at once. `part` must not throw.
  void run(size_t parts, const std::function<void(size_t)>& part,
           std::chrono::microseconds slow_part = {});

private:
  struct batch;

  /// Asks `wanted` helpers (at most all of them) to join `b`.
  void invite(const std::shared_ptr<batch>& b, size_t wanted);

  void help();

  std::mutex mtx_;
  std::condition_variable wake_;
  /// Batches that may still have parts left to claim; a helper that finds
  /// one exhausted drops it.
  std::deque<std::shared_ptr<batch>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace kws::storage
