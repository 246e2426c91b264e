// The `export` and `hub` sections of the configuration: Kafka both ways.
#pragma once

#include "config/settings.hpp"

#include <caf/error.hpp>
#include <yaml-cpp/node/node.h>

namespace kws::config::detail {

/// Applies the `export` mapping `n` (its one key, `kafka`) to `k`.
caf::error apply_export(kafka_export_settings& k, const YAML::Node& n);

/// Applies the `hub` mapping `n` (`kafka`, `clusters`) to `h`.
caf::error apply_hub(hub_settings& h, const YAML::Node& n);

} // namespace kws::config::detail
