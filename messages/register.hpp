#pragma once

#include <caf/fwd.hpp>

namespace kws {

/// Registers every message type of the project with an actor system
/// configuration; called by the application and by the test fixture.
void add_message_types(caf::actor_system_config& cfg);

} // namespace kws
