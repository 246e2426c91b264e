// Percent-decoding and splitting of request targets.
#pragma once

#include "messages/http.hpp"

#include <caf/expected.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace kws::rest {

/// Decodes %XX escapes (and '+' as space when `plus_is_space`). Malformed
/// escapes and decoded NUL bytes are errors.
caf::expected<std::string> percent_decode(std::string_view in,
                                          bool plus_is_space);

/// Splits "/a/b?x=1&y=2" into the decoded path and query of `req`.
caf::error parse_target(std::string_view target, http_request& req);

/// Splits a decoded path into its segments ("/a/b" → {"a", "b"}).
std::vector<std::string_view> path_segments(std::string_view path);

} // namespace kws::rest
