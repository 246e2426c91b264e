// What the server makes of one request head, apart from any socket: the
// Beast parser with the server's limits, the answer to a head that does not
// parse, and the conversion into the handler's `http_request`.
#pragma once

#include "messages/http.hpp"
#include "rest/server.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string_view>
#include <variant>

namespace kws::rest {

/// The parser every request is read with.
using request_parser
  = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// Sets the server's head and body limits on a fresh parser.
void limit_parser(request_parser& parser, const server_options& opts);

/// Once the head is read: the body limit of its target (only the MCP
/// endpoint takes large bodies). False when the announced Content-Length
/// is already over it (answer 413 without reading the body).
bool limit_body(request_parser& parser, const server_options& opts);

/// The answer to a request that failed to read: 431 for a head over the
/// limit, 413 for a body over the limit, else 400.
http_response read_error_response(const boost::beast::error_code& ec);

/// Converts a parsed request into what the handler receives, or into the
/// answer the server gives by itself (400 for a bad target, 403 for an admin
/// POST from elsewhere than loopback, 405 for other methods; the MCP endpoint
/// takes POST only; the page and its files, `answer_site`).
/// `client_cert_name` is the connection's verified client certificate's
/// common name ("" for none), for `server_options::proxy`.
std::variant<http_request, http_response>
accept_request(const request_parser::value_type& req, bool from_loopback,
               const server_options& opts,
               std::string_view client_cert_name = {});

} // namespace kws::rest
