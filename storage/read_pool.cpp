#include "storage/read_pool.hpp"

#include "util/thread_name.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <system_error>
#include <utility>

namespace kws::storage {

struct read_pool::batch {
  batch(const std::function<void(size_t)>& part, size_t parts)
      : part(&part), parts(parts) {}

  /// Only called for a claimed index below `parts`, which means the caller
  /// of `run` is still waiting and `part` still exists.
  const std::function<void(size_t)>* part;
  const size_t parts;
  std::atomic<size_t> next = 0;
  std::mutex mtx;
  std::condition_variable all_done;
  size_t done = 0;

  /// Runs parts until none is left to claim.
  void work() {
    size_t finished = 0;
    for (size_t i = next.fetch_add(1); i < parts; i = next.fetch_add(1)) {
      (*part)(i);
      ++finished;
    }
    if (finished == 0)
      return;
    std::lock_guard guard{mtx};
    done += finished;
    if (done == parts)
      all_done.notify_all();
  }
};

uint64_t thread_disk_reads() {
  rusage usage{};
  if (getrusage(RUSAGE_THREAD, &usage) != 0)
    return 0;
  return static_cast<uint64_t>(usage.ru_inblock);
}

read_pool::read_pool(unsigned helpers, disk_counter disk_reads)
    : disk_reads_(std::move(disk_reads)) {
  threads_.reserve(helpers);
  for (unsigned i = 0; i < helpers; ++i) {
    try {
      threads_.emplace_back([this] {
        name_this_thread("kws.read");
        help();
      });
    } catch (const std::system_error&) {
      break; // Callers then do more of their parts themselves.
    }
  }
}

read_pool::~read_pool() {
  {
    std::lock_guard guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void read_pool::run(size_t parts, const std::function<void(size_t)>& part,
                    std::chrono::microseconds slow_part) {
  if (parts == 0)
    return;
  if (parts == 1 || threads_.empty()) {
    for (size_t i = 0; i < parts; ++i)
      part(i);
    return;
  }
  size_t done_alone = 0;
  if (slow_part.count() > 0) {
    // Per part, not in total: many quick parts add up to the time of a
    // slow one, and sharing those makes them slower here (14 cached days
    // of one history: 0.6 to 0.7 ms alone, 0.9 to 2.1 ms when shared after
    // 100 us in total). And only after a read from the disk: under load a
    // cached part is slow when its thread waits for a core, and helpers
    // then only add threads that wait too.
    const auto disk_before = disk_reads_();
    auto start = std::chrono::steady_clock::now();
    while (done_alone < parts) {
      part(done_alone++);
      auto now = std::chrono::steady_clock::now();
      if (now - start >= slow_part && disk_reads_() != disk_before)
        break;
      start = now;
    }
    if (done_alone == parts)
      return;
  }
  auto b = std::make_shared<batch>(part, parts);
  b->next = done_alone;
  b->done = done_alone;
  invite(b, parts - done_alone - 1); // The caller takes one part too.
  b->work();
  std::unique_lock lock{b->mtx};
  b->all_done.wait(lock, [&] { return b->done == b->parts; });
}

void read_pool::invite(const std::shared_ptr<batch>& b, size_t wanted) {
  const auto n = std::min(wanted, threads_.size());
  {
    std::lock_guard guard{mtx_};
    for (size_t k = 0; k < n; ++k)
      queue_.push_back(b);
  }
  for (size_t k = 0; k < n; ++k)
    wake_.notify_one();
}

void read_pool::help() {
  for (;;) {
    std::shared_ptr<batch> b;
    {
      std::unique_lock lock{mtx_};
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_)
        return;
      b = std::move(queue_.front());
      queue_.pop_front();
    }
    b->work();
  }
}

} // namespace kws::storage
