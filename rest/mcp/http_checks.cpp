#include "rest/mcp/http_checks.hpp"

#include "rest/mcp/tool_support.hpp"
#include "util/ascii_case.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace kws::mcp {

namespace {

bool listed(std::string_view value, const std::vector<std::string>& list) {
  auto v = ascii_lower(value);
  return std::any_of(list.begin(), list.end(), [&v](const std::string& x) {
    return ascii_lower(x) == v;
  });
}

} // namespace

std::string host_of(std::string_view s) {
  if (auto scheme = s.find("://"); scheme != std::string_view::npos)
    s.remove_prefix(scheme + 3);
  if (auto slash = s.find('/'); slash != std::string_view::npos)
    s = s.substr(0, slash);
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    return close == std::string_view::npos
      ? ascii_lower(s)
      : ascii_lower(s.substr(1, close - 1));
  }
  if (auto colon = s.find(':'); colon != std::string_view::npos)
    s = s.substr(0, colon);
  return ascii_lower(s);
}

bool is_ip_literal(std::string_view host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string{host}, ec);
  return !ec;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host.ends_with(".localhost"))
    return true;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(std::string{host}, ec);
  return !ec && addr.is_loopback();
}

bool host_allowed(std::string_view host_header,
                  const std::vector<std::string>& allowed_hosts) {
  if (host_header.empty())
    return true;
  auto host = host_of(host_header);
  return is_loopback_host(host) || is_ip_literal(host)
    || listed(host, allowed_hosts);
}

bool origin_allowed(std::string_view origin,
                    const std::vector<std::string>& allowed_origins,
                    const std::vector<std::string>& allowed_hosts) {
  if (origin.empty())
    return true;
  if (listed(origin, allowed_origins))
    return true;
  if (origin.find("://") == std::string_view::npos)
    return false; // "null" and other opaque origins
  auto host = host_of(origin);
  return is_loopback_host(host) || listed(host, allowed_hosts);
}

bool decode_header_value(std::string_view raw, std::string& out) {
  constexpr std::string_view prefix = "=?base64?";
  constexpr std::string_view suffix = "?=";
  if (!raw.starts_with(prefix) || !raw.ends_with(suffix)
      || raw.size() < prefix.size() + suffix.size()) {
    out = raw;
    return true;
  }
  auto decoded = base64_decode(
    raw.substr(prefix.size(), raw.size() - prefix.size() - suffix.size()));
  if (!decoded)
    return false;
  out = std::move(*decoded);
  return true;
}

} // namespace kws::mcp
