// Loading and validating the configuration.
#pragma once

#include "config/settings.hpp"

#include <caf/expected.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kws::config {

/// Reads one environment variable; injectable so tests need no real
/// environment.
using env_lookup = std::function<std::optional<std::string>(const char*)>;

/// The process environment.
env_lookup process_env();

/// Default location of the configuration file.
inline constexpr const char* default_config_path = "/config/resources.yaml";

/// Parses YAML text into settings on top of the defaults. Errors name the
/// offending key, e.g. `retentionDays: must be between 1 and 3650`.
caf::expected<settings> parse_yaml(const std::string& text);

/// The file `load` reads: `path`, else CONFIG_PATH, else the default.
std::string resolve_path(const std::string& path, const env_lookup& env);

/// What DISCOVERY needs of the settings (the part a reload changes).
watch_settings watch_part(const settings& s);

/// The hub's command-line settings (`k8s-watch-server hub --kafka-brokers
/// ... --topic ...`); each one given replaces its key of the file.
struct hub_flags {
  /// hub.kafka.brokers
  std::vector<std::string> brokers;
  /// hub.kafka.topic
  std::string topic;
  /// hub.kafka.group
  std::string group;
  /// hub.clusters
  std::vector<std::string> clusters;
};

/// Applies `flags` over `s.hub`, checked as the file's keys are: an error
/// names the key a flag sets.
caf::error apply_hub_flags(settings& s, const hub_flags& flags);

/// Loads the configuration: the file at `path` (or CONFIG_PATH, or the
/// default path when `path` is empty), then environment overrides
/// (STORAGE_PATH, its alias BADGER_PATH, SERVER_PORT). A missing file
/// means defaults; a broken file or invalid value is an error naming the
/// key (`ec::config_error`).
caf::expected<settings> load(const std::string& path, const env_lookup& env);

} // namespace kws::config
