// GoogleTest fixture running CAF's test coordinator: messages are delivered
// only when the test drains them and time moves only when the test says so.
#pragma once

#include "actors/register.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include <optional>

namespace kws::test {

struct deterministic_fixture : ::testing::Test {
  struct config : caf::actor_system_config {
    config() {
      add_actor_types(*this);
      set("scheduler.policy", caf::atom("testing"));
      set("logger.console-verbosity", caf::atom("quiet"));
    }
  };

  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys, true};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  /// Drains all mailboxes; never fires timers (safe with periodic actors).
  size_t run() { return sched.run(); }

  /// Moves the virtual clock and delivers what became due.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    run();
  }

  /// The reply to `rp` if it already arrived, nullopt while pending.
  template <class T, class RequestHandle>
  std::optional<caf::expected<T>> try_collect(RequestHandle& rp) {
    if (self->mailbox().empty())
      return std::nullopt;
    caf::expected<T> result = caf::sec::unexpected_response;
    rp.receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  ~deterministic_fixture() override {
    // Pending timeouts (requests, timers) hold references to their actors;
    // dropping them lets the actor system shut down instead of waiting for
    // virtual time that never comes.
    sched.clock().cancel_all();
    run();
  }
};

} // namespace kws::test
