#include "rest/query_params.hpp"

#include "messages/errors.hpp"

#include <caf/error.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>

namespace kws::rest {

namespace {

caf::error bad(std::string_view parameter, std::string sentence) {
  return caf::make_error(ec::invalid_argument, std::string{parameter},
                         std::move(sentence));
}

bool digits(std::string_view text, size_t pos, size_t count, int64_t& out) {
  if (pos + count > text.size())
    return false;
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t days_in_month(int64_t y, int64_t m) {
  static constexpr std::array<int64_t, 12> days{31, 28, 31, 30, 31, 30,
                                                31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[static_cast<size_t>(m - 1)];
}

/// The parsed query: the value of each known parameter at most once.
class param_reader {
public:
  explicit param_reader(const http_request& req) : req_(req) {
  }

  /// The value of `name`, nullopt when absent; fails when it repeats.
  caf::expected<std::optional<std::string>> get(std::string_view name) const {
    std::optional<std::string> result;
    const auto n = std::min(req_.query_names.size(), req_.query_values.size());
    for (size_t i = 0; i < n; ++i) {
      if (req_.query_names[i] != name)
        continue;
      if (result)
        return bad(name, "the parameter " + std::string{name}
                           + " is given more than once");
      result = req_.query_values[i];
    }
    return result;
  }

private:
  const http_request& req_;
};

/// Reads `start` and `end` into `start_ns`/`end_ns`.
caf::error read_range(const param_reader& params, int64_t& start_ns,
                      int64_t& end_ns) {
  for (auto [name, out] : {std::pair{"start", &start_ns},
                           std::pair{"end", &end_ns}}) {
    auto value = params.get(name);
    if (!value)
      return value.error();
    if (!*value)
      continue;
    auto t = parse_time(name, **value);
    if (!t)
      return t.error();
    *out = *t;
  }
  if (start_ns > end_ns)
    return bad("start", "start must not be after end");
  return {};
}

caf::error read_limit(const param_reader& params, uint32_t max_limit,
                      uint32_t& limit) {
  limit = max_limit;
  auto value = params.get("limit");
  if (!value)
    return value.error();
  if (!*value)
    return {};
  const auto& text = **value;
  bool negative = !text.empty() && text[0] == '-';
  auto body = std::string_view{text}.substr(negative ? 1 : 0);
  if (body.empty()
      || body.find_first_not_of("0123456789") != std::string_view::npos)
    return bad("limit", "limit must be a positive integer, not \"" + text
                          + "\"");
  if (negative || body.find_first_not_of('0') == std::string_view::npos)
    return bad("limit", "limit must be at least 1");
  // Larger values are capped, however many digits they have.
  auto significant = body.substr(body.find_first_not_of('0'));
  if (significant.size() > 9) {
    limit = max_limit;
    return {};
  }
  auto n = std::stoull(std::string{significant});
  limit = n > max_limit ? max_limit : static_cast<uint32_t>(n);
  return {};
}

/// Resolves `text` and maps "unknown type" errors to a 400 naming
/// `resourceType`.
caf::expected<resource_type> resolve_type(const resolver_fn& resolve,
                                          std::string_view text) {
  if (text.empty())
    return bad("resourceType", "resourceType must not be empty");
  if (!resolve)
    return bad("resourceType", "unknown resource type \"" + std::string{text}
                                 + "\"");
  auto rt = resolve(text);
  if (rt)
    return rt;
  const auto& err = rt.error();
  if (err.category() == caf::atom("kws")
      && (err == ec::not_found || err == ec::invalid_argument))
    return bad("resourceType", "unknown resource type \"" + std::string{text}
                                 + "\"");
  return err;
}

/// The group a client named explicitly ("deployments.apps" names "apps").
std::string named_group(std::string_view text, const resource_type& rt) {
  return text.find('.') != std::string_view::npos ? rt.group : std::string{};
}

} // namespace

caf::expected<int64_t> parse_time(std::string_view parameter,
                                  std::string_view text) {
  auto fail = [&] {
    return bad(parameter, std::string{parameter} + " must be an RFC 3339 "
                            "time such as 2026-11-26T10:00:00Z, not \""
                            + std::string{text} + "\"");
  };
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 20 || !digits(text, 0, 4, y) || text[4] != '-'
      || !digits(text, 5, 2, mo) || text[7] != '-' || !digits(text, 8, 2, d)
      || (text[10] != 'T' && text[10] != 't' && text[10] != ' ')
      || !digits(text, 11, 2, h) || text[13] != ':' || !digits(text, 14, 2, mi)
      || text[16] != ':' || !digits(text, 17, 2, s))
    return fail();
  // Second 60 (a leap second) folds into the next second, as in Go.
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23
      || mi > 59 || s > 60)
    return fail();
  size_t pos = 19;
  int64_t frac = 0;
  if (text[pos] == '.') {
    ++pos;
    size_t n = 0;
    int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n++ < 9) {
        frac += (text[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
    }
    if (n == 0)
      return fail();
  }
  if (pos >= text.size())
    return fail();
  int64_t offset = 0;
  const char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-' || zone == ' ') {
    int64_t oh = 0, om = 0;
    if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size()
        || text[pos + 3] != ':' || !digits(text, pos + 4, 2, om) || oh > 23
        || om > 59)
      return fail();
    offset = (oh * 3600 + om * 60) * (zone == '-' ? -1 : 1);
    pos += 6;
  } else {
    return fail();
  }
  if (pos != text.size())
    return fail();
  // The range of int64 nanoseconds.
  if (y < 1678 || y > 2261)
    return bad(parameter, std::string{parameter}
                            + " must lie between the years 1678 and 2261");
  const int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60
                       + s - offset;
  return secs * 1'000'000'000 + frac;
}

caf::expected<event_query> parse_event_query(const http_request& req,
                                             uint32_t max_limit,
                                             const resolver_fn& resolve) {
  param_reader params{req};
  event_query q;
  if (auto err = read_range(params, q.start_ns, q.end_ns))
    return err;
  if (auto err = read_limit(params, max_limit, q.limit))
    return err;
  struct text_param {
    const char* name;
    std::string* out;
  };
  for (auto [name, out] : {text_param{"namespace", &q.ns},
                           text_param{"resourceName", &q.name},
                           text_param{"user", &q.user},
                           text_param{"uid", &q.uid},
                           text_param{"continue", &q.continue_token}}) {
    auto value = params.get(name);
    if (!value)
      return value.error();
    if (*value)
      *out = std::move(**value);
  }
  auto verb = params.get("verb");
  if (!verb)
    return verb.error();
  if (*verb) {
    const auto& v = **verb;
    if (v != "create" && v != "update" && v != "delete")
      return bad("verb", "verb must be create, update or delete, not \"" + v
                           + "\"");
    q.verb = v;
  }
  auto order = params.get("order");
  if (!order)
    return order.error();
  if (*order) {
    const auto& o = **order;
    if (o != "asc" && o != "desc")
      return bad("order", "order must be asc or desc, not \"" + o + "\"");
    q.descending = o == "desc";
  }
  auto type = params.get("resourceType");
  if (!type)
    return type.error();
  if (*type) {
    auto rt = resolve_type(resolve, **type);
    if (!rt)
      return rt.error();
    q.resource = rt->plural;
    q.group = named_group(**type, *rt);
  }
  return q;
}

caf::expected<history_query>
parse_history_query(const http_request& req, std::string_view ns,
                    std::string_view resource_type, std::string_view name,
                    uint32_t max_limit, const resolver_fn& resolve) {
  param_reader params{req};
  history_query q;
  if (name.empty())
    return bad("resourceName", "the path must name an object");
  if (auto err = read_range(params, q.start_ns, q.end_ns))
    return err;
  if (auto err = read_limit(params, max_limit, q.limit))
    return err;
  auto rt = resolve_type(resolve, resource_type);
  if (!rt)
    return rt.error();
  q.ns = std::string{ns};
  q.resource = rt->plural;
  q.group = named_group(resource_type, *rt);
  q.name = std::string{name};
  return q;
}

} // namespace kws::rest
