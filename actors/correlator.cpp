// The CORRELATOR has no phases. Each batch of Event records gets its link
// targets and is delegated to STORAGE, so the watcher's back-pressure reply
// comes straight from storage.
#include "actors/correlator.hpp"

#include "util/metrics.hpp"

#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<correlator_state>);

correlator_actor::behavior_type
correlator(correlator_actor::stateful_pointer<correlator_state> self,
           storage_actor storage) {
  self->state.storage = std::move(storage);
  return {
    // From DISCOVERY: every known resource type.
    [self](std::vector<resource_type>& types) {
      self->state.kinds.reset(types);
    },
    // From the Event WATCHER: link, then let STORAGE acknowledge.
    [self](ingest_batch& batch) -> caf::delegated<atom::ok> {
      auto linked = link_events(batch.events, self->state.kinds);
      static auto& num_linked = metrics::get_counter(
        "kws_events_linked_total",
        "Kubernetes Events linked to the object they are about.");
      static auto& num_unlinked = metrics::get_counter(
        "kws_events_unlinked_total",
        "Kubernetes Events whose object kind is unknown.");
      auto num_events = std::count_if(
        batch.events.begin(), batch.events.end(),
        [](const resource_event& ev) { return !ev.involved_kind.empty(); });
      num_linked.inc(linked);
      num_unlinked.inc(static_cast<uint64_t>(num_events) - linked);
      return self->delegate(self->state.storage, std::move(batch));
    },
  };
}

} // namespace kws
