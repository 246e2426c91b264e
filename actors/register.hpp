#pragma once

#include <caf/fwd.hpp>

namespace kws {

/// Registers every message and actor handle type; called by main() and by
/// the test fixture.
void add_actor_types(caf::actor_system_config& cfg);

} // namespace kws
