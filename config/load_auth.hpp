// The `auth` section of the configuration and its checks against the rest.
#pragma once

#include "config/settings.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <yaml-cpp/node/node.h>

#include <string>

namespace kws::config::detail {

/// `none`, `token` or `proxy`; an error names `key`.
caf::expected<auth_mode> parse_auth_mode(const std::string& key,
                                         const std::string& text);

/// Applies the `auth` mapping `n` to `a`.
caf::error apply_auth(auth_settings& a, const YAML::Node& n);

/// What `auth.mode` needs of the other sections: `proxy` needs HTTPS
/// (`tls.certFile`) and `auth.proxy.clientCAFile`.
caf::error check_auth(const settings& s);

} // namespace kws::config::detail
