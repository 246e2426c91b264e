// Live reload of the configuration file: noticed by content (a mounted
// ConfigMap changes by a symlink swap) or on SIGHUP.
#pragma once

#include "config/load.hpp"

#include <optional>
#include <string>
#include <vector>

namespace kws::app {

/// Keys whose new values take effect only after a restart (the port, the
/// store, thread counts...), named as in the file; empty when none changed.
std::vector<std::string> restart_only_changes(const config::settings& running,
                                              const config::settings& next);

/// Watches one configuration file and validates each new version of it.
class config_reloader {
public:
  /// `running` is what the server started with, read from `path` (as
  /// resolved by `config::resolve_path`).
  config_reloader(std::string path, config::env_lookup env,
                  config::settings running);

  /// True when the file's bytes differ from the last version loaded or
  /// rejected (a missing file counts as empty).
  bool changed();

  /// Loads the file. A valid file becomes the running configuration and its
  /// watch part is returned; an invalid one is logged with the key that is
  /// wrong and nullopt is returned (the running configuration stays).
  /// Counted in `kws_config_reloads_total`.
  std::optional<watch_settings> reload();

  /// The running configuration.
  const config::settings& running() const { return running_; }

private:
  std::string path_;
  config::env_lookup env_;
  config::settings running_;
  std::string last_text_;
};

/// A 64-bit FNV-1a hash of the configuration text, for `/metrics`.
uint64_t config_hash(const std::string& text);

} // namespace kws::app
