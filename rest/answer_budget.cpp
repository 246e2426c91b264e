#include "rest/answer_budget.hpp"

#include "util/metrics.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace kws::rest {

namespace {

metrics::gauge& waiting_gauge() {
  static auto& result = metrics::get_gauge(
    "kws_http_requests_waiting",
    "Requests read and waiting for room in the answers the server holds.");
  return result;
}

metrics::gauge& bytes_gauge() {
  static auto& result = metrics::get_gauge(
    "kws_http_answer_bytes_held",
    "Bytes of answers written out and not yet read by their clients.");
  return result;
}

} // namespace

answer_budget::answer_budget(answer_limits limits) : limits_{limits} {
  // nop
}

bool answer_budget::has_room() const {
  return answers_ < limits_.answers && bytes_ < limits_.bytes;
}

void answer_budget::acquire(std::function<void()> start) {
  {
    std::lock_guard guard{mtx_};
    if (closed_)
      return;
    // Arrival order: nobody passes a request that waits.
    if (!waiting_.empty() || !has_room()) {
      waiting_.push_back(std::move(start));
      waiting_gauge().add(1);
      return;
    }
    ++answers_;
  }
  start();
}

void answer_budget::hold(size_t bytes) {
  std::lock_guard guard{mtx_};
  bytes_ += bytes;
  bytes_gauge().add(static_cast<int64_t>(bytes));
}

void answer_budget::release(size_t held_bytes) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard guard{mtx_};
    if (answers_ > 0)
      --answers_;
    auto freed = std::min(held_bytes, bytes_);
    bytes_ -= freed;
    bytes_gauge().add(-static_cast<int64_t>(freed));
    while (!closed_ && !waiting_.empty() && has_room()) {
      ready.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
      waiting_gauge().add(-1);
      ++answers_;
    }
  }
  for (auto& start : ready)
    start();
}

void answer_budget::close() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard guard{mtx_};
    closed_ = true;
    waiting_gauge().add(-static_cast<int64_t>(waiting_.size()));
    dropped.swap(waiting_);
  }
  // Outside the lock: what a dropped request holds may release on its way.
}

size_t answer_budget::answers() const {
  std::lock_guard guard{mtx_};
  return answers_;
}

size_t answer_budget::bytes() const {
  std::lock_guard guard{mtx_};
  return bytes_;
}

size_t answer_budget::waiting() const {
  std::lock_guard guard{mtx_};
  return waiting_.size();
}

} // namespace kws::rest
