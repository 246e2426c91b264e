#include "actors/reflector_actor.hpp"

#include "messages/type_ids.hpp"

#include <type_traits>
#include <utility>

namespace kws {

static_assert(!std::is_aggregate_v<reflector_actor_state>);

caf::behavior reflector_actor(caf::stateful_actor<reflector_actor_state>* self,
                              std::shared_ptr<kube::lister_watcher> source,
                              resource_type type,
                              kube::reflector_settings settings,
                              reflector_handlers handlers, bool auto_ack,
                              std::string resume_rv) {
  auto& st = self->state;
  if (auto_ack) {
    // The driver is in place before any delivery: `start` only sends.
    auto ack = [&st] { st.driver->ack(1); };
    if (auto f = std::move(handlers.on_list))
      handlers.on_list = [f, ack](list_result x) {
        f(std::move(x));
        ack();
      };
    if (auto f = std::move(handlers.on_events))
      handlers.on_events = [f, ack](std::vector<watch_event> xs, int64_t at) {
        f(std::move(xs), at);
        ack();
      };
  }
  st.driver = std::make_unique<reflector_driver>(
    self, std::move(source), std::move(type), settings, std::move(handlers));
  st.driver->start(std::move(resume_rv));
  return {
    [self](atom::internal, reflector_input& input) {
      self->state.driver->handle(input);
    },
    [self](atom::ok, uint64_t deliveries) {
      self->state.driver->ack(deliveries);
    },
  };
}

} // namespace kws
