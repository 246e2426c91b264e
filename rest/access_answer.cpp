#include "rest/access_answer.hpp"

#include "util/ascii_case.hpp"
#include "util/errors.hpp"

#include <caf/error.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace kws::rest {

namespace {

/// At most this many names in a header; the rest are counted.
constexpr size_t max_listed = 50;

std::string listed(const std::vector<std::string>& names) {
  std::string out;
  size_t n = std::min(names.size(), max_listed);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0)
      out += ',';
    out += names[i];
  }
  if (names.size() > n)
    out += ",+" + std::to_string(names.size() - n) + " more";
  return out;
}

std::string where(std::string_view ns) {
  return ns.empty() ? std::string{"in any namespace"}
                    : "in namespace " + std::string{ns};
}

} // namespace

caf::expected<std::string> bearer_token(const http_request& req) {
  auto it = req.headers.find("authorization");
  if (it == req.headers.end() || it->second.empty())
    return caf::make_error(ec::unauthenticated,
                           "send a token: Authorization: Bearer <token>");
  std::string_view value = it->second;
  constexpr std::string_view scheme = "bearer ";
  if (value.size() <= scheme.size()
      || ascii_lower(value.substr(0, scheme.size())) != scheme)
    return caf::make_error(ec::unauthenticated,
                           "the Authorization header must be "
                           "\"Bearer <token>\"");
  auto token = value.substr(scheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
    token.remove_suffix(1);
  if (token.empty() || token.find_first_of(" \t") != std::string_view::npos)
    return caf::make_error(ec::unauthenticated,
                           "the Authorization header must be "
                           "\"Bearer <token>\"");
  return std::string{token};
}

caf::expected<access_request> access_of(const http_request& req) {
  access_request out;
  if (!req.proxied.user.empty()) {
    out.proxied = req.proxied;
    return out;
  }
  if (!req.proxy_refusal.empty())
    return caf::make_error(ec::unauthenticated, req.proxy_refusal);
  auto token = bearer_token(req);
  if (!token)
    return token.error();
  out.token = std::move(*token);
  return out;
}

caf::error refusal(const access_grant& grant, std::string_view ns,
                   std::string_view type) {
  const auto& f = grant.filter;
  const auto& user = grant.who.user;
  if (!type.empty()) {
    if (std::find(grant.denied_types.begin(), grant.denied_types.end(), type)
        == grant.denied_types.end())
      return {};
    return caf::make_error(ec::forbidden,
                           user + " may not get " + std::string{type} + " "
                             + where(ns));
  }
  if (f.everything || !f.cluster_types.empty() || !f.namespace_types.empty())
    return {};
  return caf::make_error(ec::forbidden,
                         user
                           + " may get none of the recorded "
                             "resource types "
                           + where(ns));
}

void mark_filtered(http_response& res, const access_grant& grant) {
  if (!grant.denied_types.empty())
    res.headers["X-Filtered-Resources"] = listed(grant.denied_types);
  if (!grant.partial_namespaces.empty())
    res.headers["X-Filtered-Namespaces"] = listed(grant.partial_namespaces);
}

} // namespace kws::rest
