#include "util/time_format.hpp"

#include "util/errors.hpp"

#include <caf/error.hpp>

#include <cstdio>
#include <limits>

namespace kws {

// Howard Hinnant's civil-date algorithms: exact for every proleptic
// Gregorian date and free of time-zone state, unlike timegm/gmtime_r.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

int64_t day_index(int64_t ns) {
  auto q = ns / ns_per_day;
  if (ns % ns_per_day < 0)
    --q;
  return q;
}

std::string format_rfc3339(int64_t ns) {
  const auto day = day_index(ns);
  // The remainder, not ns - day * ns_per_day: that product overflows for
  // the clamped bounds (int64 min lies inside a day, not at its start).
  int64_t in_day = ns % ns_per_day;
  if (in_day < 0)
    in_day += ns_per_day;
  int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(day, y, m, d);
  const auto secs = in_day / 1'000'000'000;
  const auto frac = in_day % 1'000'000'000;
  char buf[64];
  int n = std::snprintf(
    buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d",
    static_cast<long long>(y), m, d, static_cast<int>(secs / 3600),
    static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  std::string result(buf, static_cast<size_t>(n));
  if (frac != 0) {
    char fbuf[16];
    std::snprintf(fbuf, sizeof(fbuf), ".%09lld", static_cast<long long>(frac));
    std::string f = fbuf;
    while (f.back() == '0')
      f.pop_back();
    result += f;
  }
  result += 'Z';
  return result;
}

namespace {

bool read_digits(std::string_view text, size_t& pos, size_t count,
                 int64_t& out) {
  if (pos + count > text.size())
    return false;
  int64_t value = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  out = value;
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c)
    return false;
  ++pos;
  return true;
}

bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int64_t y, int64_t m) {
  static constexpr unsigned days[]
    = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

caf::error bad(std::string_view text, std::string_view why) {
  return caf::make_error(ec::parse_error,
                         "\"" + std::string{text}
                           + "\" is not an RFC 3339 time: " + std::string{why});
}

} // namespace

namespace {

/// `parse_rfc3339`; with `clamp`, a year outside the range of int64
/// nanoseconds gives the smallest or largest int64 instead of an error.
caf::expected<int64_t> parse_time_text(std::string_view text, bool clamp) {
  size_t pos = 0;
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!read_digits(text, pos, 4, y) || !expect(text, pos, '-')
      || !read_digits(text, pos, 2, mo) || !expect(text, pos, '-')
      || !read_digits(text, pos, 2, d))
    return bad(text, "expected a date like 2026-11-26");
  if (pos >= text.size()
      || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' '))
    return bad(text, "expected 'T' between date and time");
  ++pos;
  if (!read_digits(text, pos, 2, h) || !expect(text, pos, ':')
      || !read_digits(text, pos, 2, mi) || !expect(text, pos, ':')
      || !read_digits(text, pos, 2, s))
    return bad(text, "expected a time like 10:18:00");
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
    return bad(text, "the date does not exist");
  // Second 60 is a leap second; like Go's time package we fold it into the
  // following second rather than rejecting a valid RFC 3339 value.
  if (h > 23 || mi > 59 || s > 60)
    return bad(text, "the time of day is out of range");
  int64_t frac_ns = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      // Digits beyond nanoseconds are accepted and truncated.
      if (digits < 9) {
        frac_ns += (text[pos] - '0') * scale;
        scale /= 10;
      }
      ++digits;
      ++pos;
    }
    if (digits == 0)
      return bad(text, "expected digits after '.'");
  }
  int64_t offset_s = 0;
  if (pos >= text.size())
    return bad(text, "missing time zone ('Z' or an offset like +02:00)");
  char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-' || zone == ' ') {
    // A space stands for '+': a literal '+' in a query string decodes to one.
    ++pos;
    int64_t oh = 0, om = 0;
    if (!read_digits(text, pos, 2, oh) || !expect(text, pos, ':')
        || !read_digits(text, pos, 2, om) || oh > 23 || om > 59)
      return bad(text, "malformed time zone offset");
    offset_s = (oh * 3600 + om * 60) * (zone == '-' ? -1 : 1);
  } else {
    return bad(text, "missing time zone ('Z' or an offset like +02:00)");
  }
  if (pos != text.size())
    return bad(text, "unexpected characters after the time zone");
  // int64 nanoseconds span roughly 1677-09-21 to 2262-04-11.
  if (y < 1678 || y > 2261) {
    if (clamp)
      return y < 1678 ? std::numeric_limits<int64_t>::min()
                      : std::numeric_limits<int64_t>::max();
    return bad(text, "the year is outside 1678..2261");
  }
  const int64_t secs
    = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))
      * 86400
    + h * 3600 + mi * 60 + s - offset_s;
  return secs * 1'000'000'000 + frac_ns;
}

} // namespace

caf::expected<int64_t> parse_rfc3339(std::string_view text) {
  return parse_time_text(text, false);
}

caf::expected<int64_t> parse_rfc3339_clamped(std::string_view text) {
  return parse_time_text(text, true);
}

} // namespace kws
