// An actor that runs one reflector and nothing else, for the `probe` command
// and for tests of the reflector against a real apiserver: what it delivers
// goes to plain handlers, run in the actor.
#pragma once

#include "actors/reflector_driver.hpp"

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <memory>
#include <string>

namespace kws {

struct reflector_actor_state {
  explicit reflector_actor_state(caf::event_based_actor* self) : self{self} {}

  caf::event_based_actor* self;
  std::unique_ptr<reflector_driver> driver;

  static inline const char* name = "reflector";
};

/// Lists and watches `type` through `source` from `resume_rv` ("" lists
/// first). With `auto_ack` each delivery is confirmed once its handler
/// returned; otherwise `(atom::ok, uint64_t n)` confirms the oldest `n`.
/// An exit message stops it and closes its stream.
caf::behavior reflector_actor(caf::stateful_actor<reflector_actor_state>* self,
                              std::shared_ptr<kube::lister_watcher> source,
                              resource_type type,
                              kube::reflector_settings settings,
                              reflector_handlers handlers, bool auto_ack,
                              std::string resume_rv);

} // namespace kws
