// Pieces every log line is made of, safe for any bytes a client or the
// cluster sends: the time stamp and JSON strings that stay valid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kws {

/// `ns` since the Unix epoch as RFC 3339 UTC with milliseconds, e.g.
/// "2026-11-26T10:18:00.500Z": the time stamp of every log line.
std::string format_log_time(int64_t ns);

/// `s` with each byte that is not part of a well-formed UTF-8 sequence
/// (stray continuation bytes, truncated or overlong sequences, surrogates,
/// code points past U+10FFFF) replaced by U+FFFD.
std::string valid_utf8(std::string_view s);

/// A JSON string literal of arbitrary bytes: invalid UTF-8 becomes U+FFFD
/// (a strict parser would reject the whole line otherwise), quotes,
/// backslashes and control characters are escaped.
std::string quote_json_bytes(std::string_view s);

} // namespace kws
