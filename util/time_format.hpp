// RFC 3339 timestamps as Kubernetes writes them and the REST contract serves
// them, converted to and from nanoseconds since the Unix epoch (UTC).
#pragma once

#include <caf/expected.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace kws {

/// Nanoseconds in one UTC day.
constexpr int64_t ns_per_day = 86'400'000'000'000;

/// Formats `ns` as RFC 3339 UTC, e.g. "2026-11-26T10:18:00.5Z". The fraction
/// has up to nine digits without trailing zeros (Go's RFC3339Nano form) and
/// is left out for whole seconds.
std::string format_rfc3339(int64_t ns);

/// Parses an RFC 3339 timestamp with optional fraction and a `Z` or numeric
/// offset, converting it to UTC. Fails with `ec::parse_error` on anything
/// else, including times outside the range of `int64_t` nanoseconds.
caf::expected<int64_t> parse_rfc3339(std::string_view text);

/// `parse_rfc3339`, except that a valid time whose year lies outside
/// 1678..2261 gives the smallest or largest `int64_t`: as a query bound,
/// `9999-12-31T23:59:59Z` means "no bound", not a mistake.
caf::expected<int64_t> parse_rfc3339_clamped(std::string_view text);

/// `t - d`, held at the int64 bounds instead of overflowing: a clamped
/// bound ("no bound") minus a window is still no bound.
inline int64_t time_before(int64_t t, int64_t d) {
  int64_t out = 0;
  if (__builtin_sub_overflow(t, d, &out))
    return d > 0 ? INT64_MIN : INT64_MAX;
  return out;
}

/// Days since 1970-01-01 of the civil date `y-m-d` (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

/// The civil date of day `z` since 1970-01-01.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d);

/// Floor division of `ns` by one day: the UTC day index of a time.
int64_t day_index(int64_t ns);

} // namespace kws
