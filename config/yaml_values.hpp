// Reading one setting's value from YAML: the checks every section shares,
// each failing with an error that names the setting's key.
#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <yaml-cpp/node/node.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kws::config::detail {

/// "<key>: <what>", as a config error.
caf::error config_error(const std::string& key, const std::string& what);

/// Parses a whole decimal number in [lo, hi]; rejects signs, spaces, junk.
caf::expected<int64_t> parse_int(const std::string& key,
                                 const std::string& text, int64_t lo,
                                 int64_t hi);

caf::expected<int64_t> int_value(const std::string& key, const YAML::Node& n,
                                 int64_t lo, int64_t hi);

caf::expected<bool> bool_value(const std::string& key, const YAML::Node& n);

caf::expected<std::string> string_value(const std::string& key,
                                        const YAML::Node& n, bool allow_empty);

/// A list of non-empty strings; null is the empty list.
caf::expected<std::vector<std::string>>
string_list(const std::string& key, const YAML::Node& n, const char* what);

} // namespace kws::config::detail
