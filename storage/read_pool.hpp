// Threads that help a query wait for the disk. RocksDB in this build reads
// the blocks of one call one after another, and a block outside the page
// cache waits for the disk; a query that reads several independent places
// (the record ranges of a page, the days of a history) gets them in flight
// together by handing some of them to these threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kws::storage {

/// Blocks this thread has read from storage devices, not from the page
/// cache (`getrusage`'s `ru_inblock`); 0 where the system does not say.
uint64_t thread_disk_reads();

/// A fixed set of threads that run the parts of `run` calls. The calling
/// thread always works on its own call too, so a call finishes even when
/// every helper is busy with other calls. A caller may work alone until a
/// part turns out to wait for the disk: parts whose blocks are cached take
/// microseconds, and on few cores waking helpers for them, or for parts
/// that are slow only because the machine is busy, costs more than it
/// saves.
class read_pool {
public:
  /// Blocks the calling thread has read from storage devices so far.
  using disk_counter = std::function<uint64_t()>;

  /// Starts up to `helpers` threads; fewer when the system refuses one.
  explicit read_pool(unsigned helpers,
                     disk_counter disk_reads = thread_disk_reads);
  ~read_pool();

  read_pool(const read_pool&) = delete;
  read_pool& operator=(const read_pool&) = delete;

  /// Threads that help callers (not counting the caller).
  size_t helpers() const { return threads_.size(); }

  /// Calls `part(i)` once for each `i` in `[0, parts)`, on the calling
  /// thread and on helpers, and returns when all calls have returned. The
  /// caller runs parts alone until one of them takes `slow_part` or longer
  /// and the caller's thread has read from the disk meanwhile, then asks
  /// helpers to take the parts left; with zero, helpers are asked at once.
  /// `part` must not throw.
  void run(size_t parts, const std::function<void(size_t)>& part,
           std::chrono::microseconds slow_part = {});

private:
  struct batch;

  /// Asks `wanted` helpers (at most all of them) to join `b`.
  void invite(const std::shared_ptr<batch>& b, size_t wanted);

  void help();

  disk_counter disk_reads_;
  std::mutex mtx_;
  std::condition_variable wake_;
  /// Batches that may still have parts left to claim; a helper that finds
  /// one exhausted drops it.
  std::deque<std::shared_ptr<batch>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace kws::storage
