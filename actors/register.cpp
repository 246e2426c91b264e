#include "actors/register.hpp"

#include "actors/interfaces.hpp"
#include "messages/register.hpp"

#include <caf/actor_system_config.hpp>

namespace kws {

void add_actor_types(caf::actor_system_config& cfg) {
  add_message_types(cfg);
  cfg.add_message_types<caf::id_block::kws_actors>();
}

} // namespace kws
