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

/// Splits "/a/b?x=1&y=2" into the path and the decoded query of `req`.
/// The path must start with '/'. Its segments are decoded one by one; a '/'
/// or '%' decoded inside a segment stays escaped (%2F, %25), so the path
/// still splits where the client split it.
caf::error parse_target(std::string_view target, http_request& req);

/// The decoded segments of a path from `parse_target` ("/a/b%2Fc" →
/// {"a", "b/c"}).
std::vector<std::string> path_segments(std::string_view path);

} // namespace kws::rest
