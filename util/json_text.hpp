// Writing JSON text by hand where a DOM would only be built to be printed.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace kws {

/// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// `s` with each byte that does not belong to a well-formed UTF-8 sequence
/// replaced by U+FFFD, so text taken from a request (a query parameter, a
/// path) can be quoted in a JSON answer that stays valid.
std::string to_valid_utf8(std::string_view s);

/// A JSON string literal: `s` quoted and escaped (ill-formed UTF-8 as
/// `to_valid_utf8` replaces it).
inline std::string quote_json(std::string_view s) {
  std::string fixed;
  if (!is_valid_utf8(s)) {
    fixed = to_valid_utf8(s);
    s = fixed;
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string{buf.GetString(), buf.GetSize()};
}

/// Appends `quote_json(s)` to `out`; printable ASCII needing no escape (a
/// pointer, a manager's name) is copied as it is, without a writer.
inline void append_quoted_json(std::string& out, std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      out += quote_json(s);
      return;
    }
  }
  out += '"';
  out += s;
  out += '"';
}

} // namespace kws
