#include "rest/request_head.hpp"

#include "rest/routes.hpp"
#include "rest/static_site.hpp"
#include "rest/url.hpp"
#include "util/ascii_case.hpp"
#include "util/errors.hpp"

#include <boost/beast/http/error.hpp>

#include <algorithm>

namespace kws::rest {

namespace http = boost::beast::http;

void limit_parser(request_parser& parser, const server_options& opts) {
  parser.header_limit(static_cast<uint32_t>(opts.max_header_bytes));
  // The parser checks a Content-Length against this limit as soon as the
  // head is read, before the target is known: it has to admit the larger.
  parser.body_limit(std::max(opts.max_body_bytes, opts.mcp_body_bytes));
}

bool limit_body(request_parser& parser, const server_options& opts) {
  const auto& head = parser.get();
  auto target = head.target();
  auto path = target.substr(0, target.find('?'));
  if (!opts.mcp_path.empty() && head.method() == http::verb::post
      && std::string_view{path.data(), path.size()} == opts.mcp_path)
    return true;
  parser.body_limit(opts.max_body_bytes);
  auto length = parser.content_length();
  return !length || *length <= opts.max_body_bytes;
}

namespace {

/// `auth.mode: proxy`: who the front proxy says asks, or why it is not
/// believed. Only this decides; the identity headers go no further.
void name_caller(const request_parser::value_type& req,
                 std::string_view client_cert_name, const server_options& opts,
                 http_request& out) {
  if (!opts.proxy)
    return;
  if (auto who = proxied_caller(req, client_cert_name, *opts.proxy))
    out.proxied = std::move(*who);
  else
    out.proxy_refusal = error_detail(who.error());
}

} // namespace

http_response read_error_response(const boost::beast::error_code& ec) {
  if (ec == http::error::header_limit)
    return error_response(431, "request head too large");
  if (ec == http::error::body_limit)
    return error_response(413, "request body too large");
  return error_response(400, "malformed HTTP request: " + ec.message());
}

std::variant<http_request, http_response>
accept_request(const request_parser::value_type& req, bool from_loopback,
               const server_options& opts, std::string_view client_cert_name) {
  http_request out;
  out.method = std::string{req.method_string()};
  out.from_loopback = from_loopback;
  if (auto err = parse_target(req.target(), out)) {
    auto& ctx = err.context();
    auto name = ctx.size() > 1 && ctx.match_element<std::string>(0)
      ? ctx.get_as<std::string>(0)
      : std::string{};
    auto msg = ctx.size() > 1 && ctx.match_element<std::string>(1)
      ? ctx.get_as<std::string>(1)
      : error_detail(err);
    return error_response(400, msg, name);
  }
  if (opts.paths == listener_paths::probes && !is_probe_path(out.path))
    return error_response(404,
                          "this port serves only the probes: /health, "
                          "/healthz, /livez and /readyz");
  bool admin = out.path.starts_with(opts.admin_prefix);
  if (admin && opts.paths == listener_paths::api)
    return error_response(404,
                          "admin endpoints are served only on the "
                          "loopback admin port (adminPort)");
  if (!admin && opts.paths == listener_paths::admin)
    return error_response(404,
                          "this port serves only the admin endpoints "
                          "under "
                            + opts.admin_prefix);
  if (!opts.site.empty() && is_site_path(out.path)) {
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      auto res = error_response(
        405, "method " + std::string{req.method_string()} + " is not allowed");
      res.headers["Allow"] = "GET, HEAD";
      return res;
    }
    auto tag = req[http::field::if_none_match];
    return answer_site(opts.site, out.path, {tag.data(), tag.size()});
  }
  if (!opts.mcp_path.empty() && out.path == opts.mcp_path) {
    if (req.method() != http::verb::post) {
      auto res = error_response(405, "the MCP endpoint takes POST only");
      res.headers["Allow"] = "POST";
      return res;
    }
    for (const auto& field : req) {
      auto name = field.name_string();
      out.headers[ascii_lower({name.data(), name.size()})]
        = std::string{field.value()};
    }
    out.body = req.body();
    name_caller(req, client_cert_name, opts, out);
    return out;
  }
  if (admin && req.method() == http::verb::post && !from_loopback)
    return error_response(403, "admin endpoints answer only loopback clients");
  // A page in a browser on the same host could POST here: browsers send an
  // Origin header with every POST, the operator's command never does.
  if (admin && req.count(http::field::origin) > 0)
    return error_response(403,
                          "admin endpoints refuse browser requests "
                          "(an Origin header)");
  if (req.method() != http::verb::get && req.method() != http::verb::head
      && !(admin && req.method() == http::verb::post)) {
    auto res = error_response(
      405, "method " + std::string{req.method_string()} + " is not allowed");
    res.headers["Allow"] = admin ? "GET, HEAD, POST" : "GET, HEAD";
    return res;
  }
  // The one header a query's handler reads: who asks (`auth.mode: token`).
  if (auto credentials = req[http::field::authorization]; !credentials.empty())
    out.headers["authorization"] = std::string{credentials};
  name_caller(req, client_cert_name, opts, out);
  return out;
}

} // namespace kws::rest
