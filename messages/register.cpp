#include "messages/register.hpp"

#include "messages/type_ids.hpp"

#include <caf/actor_system_config.hpp>

namespace kws {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::kws_messages>();
}

} // namespace kws
