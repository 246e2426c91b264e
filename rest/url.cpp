#include "rest/url.hpp"

#include "util/errors.hpp"

namespace kws::rest {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

caf::expected<std::string> percent_decode(std::string_view in,
                                          bool plus_is_space) {
  std::string result;
  result.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size())
        return caf::make_error(ec::invalid_argument,
                               "truncated percent escape");
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return caf::make_error(ec::invalid_argument,
                               "malformed percent escape");
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0')
        return caf::make_error(ec::invalid_argument, "NUL byte");
      result.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      result.push_back(' ');
    } else {
      result.push_back(c);
    }
  }
  return result;
}

caf::error parse_target(std::string_view target, http_request& req) {
  auto qpos = target.find('?');
  auto raw_path = target.substr(0, qpos);
  if (raw_path.empty() || raw_path.front() != '/')
    return caf::make_error(ec::invalid_argument, "path",
                           "the request path must start with '/'");
  // Each segment is decoded on its own, so an escaped '/' stays inside its
  // segment: it is kept as %2F (and '%' as %25) for `path_segments`.
  std::string path;
  path.reserve(raw_path.size());
  for (size_t i = 0; i < raw_path.size();) {
    path += '/';
    auto end = raw_path.find('/', i + 1);
    auto raw = raw_path.substr(
      i + 1,
      end == std::string_view::npos ? std::string_view::npos : end - i - 1);
    auto segment = percent_decode(raw, false);
    if (!segment)
      return caf::make_error(ec::invalid_argument, "path",
                             "the request path has a "
                               + error_detail(segment.error()));
    path += escape_path_segment(*segment);
    i = end == std::string_view::npos ? raw_path.size() : end;
  }
  req.path = std::move(path);
  req.query_names.clear();
  req.query_values.clear();
  if (qpos == std::string_view::npos)
    return {};
  auto query = target.substr(qpos + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{}
                                          : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto raw_name = pair.substr(0, eq);
    auto raw_value
      = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    auto name = percent_decode(raw_name, true);
    if (!name)
      return caf::make_error(ec::invalid_argument, std::string{raw_name},
                             "the parameter name has a "
                               + error_detail(name.error()));
    auto value = percent_decode(raw_value, true);
    if (!value)
      return caf::make_error(ec::invalid_argument, *name,
                             "the value has a " + error_detail(value.error()));
    req.query_names.push_back(std::move(*name));
    req.query_values.push_back(std::move(*value));
  }
  return {};
}

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> result;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto raw = path.substr(0, path.find('/'));
    path.remove_prefix(raw.size());
    result.push_back(unescape_path_segment(raw));
  }
  return result;
}

} // namespace kws::rest
