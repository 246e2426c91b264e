// The tuned scheduler: idle workers sleep instead of polling, and work still
// reaches them both from outside the workers and from one worker to another.
#include "actors/scheduler.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <thread>

namespace kws {
namespace {

using namespace std::chrono_literals;

/// Voluntary context switches of all threads of this process so far.
long voluntary_switches() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_nvcsw;
}

/// Adds one to what it gets by asking the next actor, or answers itself at
/// the end of the chain: messages between actors, queued by the workers.
caf::behavior relay(caf::event_based_actor* self, caf::actor next) {
  return {
    [self, next](int x) -> caf::result<int> {
      if (!next)
        return x;
      auto rp = self->make_response_promise<int>();
      self->request(next, caf::infinite, x + 1).then([rp](int y) mutable {
        rp.deliver(y);
      });
      return rp;
    },
  };
}

/// Sends a burst of requests through a chain of actors, then counts the
/// process's voluntary context switches while the system sits idle.
long idle_switches_after_burst(caf::actor_system_config& cfg) {
  caf::actor_system sys{cfg};
  caf::actor chain;
  for (int i = 0; i < 4; ++i)
    chain = sys.spawn(relay, chain);
  caf::scoped_actor self{sys};
  for (int i = 0; i < 200; ++i)
    self->request(chain, caf::infinite, i)
      .receive([i](int y) { EXPECT_EQ(y, i + 3); },
               [](caf::error& err) { FAIL() << to_string(err); });
  auto before = voluntary_switches();
  std::this_thread::sleep_for(200ms);
  return voluntary_switches() - before;
}

TEST(scheduler, idle_workers_sleep_instead_of_polling) {
  caf::actor_system_config stock;
  auto polling = idle_switches_after_burst(stock);
  caf::actor_system_config tuned;
  tune_scheduler(tuned);
  auto sleeping = idle_switches_after_burst(tuned);
  // Stock CAF polls 500 times 50 µs apart per worker after its last job.
  EXPECT_GT(polling, 4 * sleeping)
    << "stock: " << polling << ", tuned: " << sleeping;
}

} // namespace
} // namespace kws
