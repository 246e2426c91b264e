#include "rest/static_site.hpp"

#include "rest/server.hpp"

#include <algorithm>

namespace kws::rest {

namespace {

constexpr std::string_view ui_prefix = "/ui/";

/// The page loads only its own scripts and styles and talks only to its own
/// origin; no other site may frame it. Inline style attributes stay allowed:
/// the charting and diff libraries position elements with them.
constexpr std::string_view content_security_policy
  = "default-src 'self'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

std::string_view file_of(std::string_view path) {
  if (path == "/" || path == "/ui" || path == ui_prefix)
    return "index.html";
  return path.substr(ui_prefix.size());
}

/// True when the `If-None-Match` list holds `etag` (or is `*`).
bool matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    auto item = if_none_match.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item.starts_with("W/"))
      item.remove_prefix(2);
    if (item == "*" || item == etag)
      return true;
    if (comma == std::string_view::npos)
      break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace

bool is_site_path(std::string_view path) {
  return path == "/" || path == "/ui" || path.starts_with(ui_prefix);
}

http_response answer_site(static_site site, std::string_view path,
                          std::string_view if_none_match) {
  auto name = file_of(path);
  auto it = std::find_if(site.begin(), site.end(),
                         [&](const auto& a) { return a.name == name; });
  if (it == site.end())
    return error_response(404,
                          "no such file of the page: " + std::string{path});
  http_response res;
  res.content_type = std::string{it->content_type};
  res.headers["ETag"] = std::string{it->etag};
  res.headers["Cache-Control"] = "no-cache";
  res.headers["X-Content-Type-Options"] = "nosniff";
  res.headers["Referrer-Policy"] = "no-referrer";
  if (name == "index.html")
    res.headers["Content-Security-Policy"]
      = std::string{content_security_policy};
  if (!if_none_match.empty() && matches(if_none_match, it->etag)) {
    res.status = 304;
    return res;
  }
  res.body = std::string{it->body};
  return res;
}

} // namespace kws::rest
