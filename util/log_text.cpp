#include "util/log_text.hpp"

#include "util/json_text.hpp"
#include "util/time_format.hpp"

#include <cstdio>

namespace kws {

std::string format_log_time(int64_t ns) {
  constexpr int64_t ns_per_s = 1'000'000'000;
  auto frac = ns % ns_per_s;
  if (frac < 0)
    frac += ns_per_s;
  auto result = format_rfc3339(ns - frac); // whole seconds: "...:SSZ"
  result.pop_back();
  char buf[8];
  std::snprintf(buf, sizeof(buf), ".%03dZ", static_cast<int>(frac / 1'000'000));
  result += buf;
  return result;
}

namespace {

/// The length of the well-formed UTF-8 sequence at the start of `s`, or 0
/// (RFC 3629, Table 3-7 of the Unicode standard).
size_t utf8_sequence_length(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto b0 = byte(0);
  if (b0 < 0x80)
    return 1;
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0)
      lo = 0xA0; // overlong
    else if (b0 == 0xED)
      hi = 0x9F; // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0)
      lo = 0x90; // overlong
    else if (b0 == 0xF4)
      hi = 0x8F; // past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < len || byte(1) < lo || byte(1) > hi)
    return 0;
  for (size_t i = 2; i < len; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF)
      return 0;
  return len;
}

} // namespace

std::string valid_utf8(std::string_view s) {
  std::string result;
  result.reserve(s.size());
  while (!s.empty()) {
    if (auto n = utf8_sequence_length(s); n > 0) {
      result.append(s.substr(0, n));
      s.remove_prefix(n);
    } else {
      result += "\xEF\xBF\xBD";
      s.remove_prefix(1);
    }
  }
  return result;
}

std::string quote_json_bytes(std::string_view s) {
  return quote_json(valid_utf8(s));
}

} // namespace kws
