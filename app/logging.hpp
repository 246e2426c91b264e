// How the process writes its log lines once the configuration is loaded:
// text for people or one JSON object per line for log pipelines, and the
// access log's lines among them.
#pragma once

#include "config/settings.hpp"
#include "rest/access_log.hpp"

#include <functional>

namespace kws::app {

/// Writes every log line of the process in `format` from now on; the default
/// logger becomes `server`. Lines of the `access` logger are written as they
/// come (`access_log` formats them). Call once, before other threads log.
void use_log_format(config::log_format format);

/// The callback for `rest::server_options::on_access`: writes each entry in
/// `format` through the `access` logger. Call after `use_log_format`.
std::function<void(const rest::access_entry&)>
access_log(config::log_format format);

} // namespace kws::app
