// The CORRELATOR: links Kubernetes Events to their objects before storage.
#pragma once

#include "actors/event_links.hpp"
#include "actors/interfaces.hpp"

namespace kws {

/// State of the CORRELATOR: the kind map and where records go next.
struct correlator_state {
  explicit correlator_state(correlator_actor::pointer self) : self{self} {}

  correlator_actor::pointer self;
  storage_actor storage;
  kind_index kinds;

  static inline const char* name = "correlator";
};

/// Implements the CORRELATOR interface. Linking by involvedObject's
/// namespace, kind and name needs no earlier sight of the object, so an
/// Event that arrives before its object is linked all the same.
correlator_actor::behavior_type
correlator(correlator_actor::stateful_pointer<correlator_state> self,
           storage_actor storage);

} // namespace kws
