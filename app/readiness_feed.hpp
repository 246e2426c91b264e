// Keeps the answer to `/readyz` at hand for the REST server's io threads, so
// that the probe never queues behind pages in the HTTP HANDLER: a thread
// asks the SUPERVISOR (which asks DISCOVERY) for readiness at an interval
// and keeps the rendered answer.
#pragma once

#include "actors/interfaces.hpp"
#include "messages/http.hpp"

#include <caf/actor_system.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace kws::app {

/// The latest readiness answer, refreshed on its own thread.
class readiness_feed {
public:
  /// Asks `sup` at once, then every `interval`; an answer that does not
  /// come within `timeout` makes the service not ready (503), as it does
  /// when the HTTP HANDLER answers.
  readiness_feed(caf::actor_system& sys, supervisor_actor sup,
                 std::chrono::milliseconds interval
                 = std::chrono::milliseconds{500},
                 std::chrono::milliseconds timeout = std::chrono::seconds{5});

  /// Stops asking and joins the thread.
  ~readiness_feed();

  readiness_feed(const readiness_feed&) = delete;
  readiness_feed& operator=(const readiness_feed&) = delete;

  /// The latest answer (before the first: not ready, 503). Thread-safe;
  /// never waits for an actor.
  http_response current() const;

private:
  void run();

  caf::actor_system& sys_;
  supervisor_actor sup_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  http_response current_;
  std::thread thread_;
};

} // namespace kws::app
