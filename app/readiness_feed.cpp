#include "app/readiness_feed.hpp"

#include "rest/render.hpp"
#include "rest/server.hpp"
#include "util/errors.hpp"

#include <caf/scoped_actor.hpp>

#include <utility>

namespace kws::app {

readiness_feed::readiness_feed(caf::actor_system& sys, supervisor_actor sup,
                               std::chrono::milliseconds interval,
                               std::chrono::milliseconds timeout)
    : sys_{sys}, sup_{std::move(sup)}, interval_{interval}, timeout_{timeout},
      current_{rest::render_readiness(readiness{})} {
  thread_ = std::thread{[this] { run(); }};
}

readiness_feed::~readiness_feed() {
  {
    std::lock_guard guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

http_response readiness_feed::current() const {
  std::lock_guard guard{mtx_};
  return current_;
}

void readiness_feed::run() {
  caf::scoped_actor self{sys_};
  std::unique_lock lock{mtx_};
  while (!stop_) {
    lock.unlock();
    http_response next;
    self->request(sup_, timeout_, atom::status_v)
      .receive([&](const readiness& r) { next = rest::render_readiness(r); },
               [&](const caf::error& err) {
                 next = rest::error_response(503, "not ready: " + render(err));
               });
    lock.lock();
    current_ = std::move(next);
    cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

} // namespace kws::app
