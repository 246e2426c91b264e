#include "actors/scheduler.hpp"

#include <caf/actor_system_config.hpp>

#include <cstddef>

namespace kws {

void tune_scheduler(caf::actor_system_config& cfg) {
  cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
}

} // namespace kws
