// Fuzzes what the REST server does with the bytes of a request before any
// actor sees it: Beast's parser with the server's limits, the conversion
// into `http_request` (target decoding, method rules), route matching and
// the parameter parsers of the query endpoints.
//
// Input: the bytes a client sends on a fresh connection.

#include "rest/query_params.hpp"
#include "rest/request_head.hpp"
#include "rest/routes.hpp"
#include "tests/fuzz/support.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <variant>

using kws::fuzz::check;

namespace {

namespace http = boost::beast::http;

/// Feeds the bytes as the server's reads do: everything not yet consumed,
/// and the end of the stream once the parser can use no more of it.
/// Returns the parser's error, or none once a whole request parsed.
boost::beast::error_code parse(kws::rest::request_parser& parser,
                               std::string_view bytes) {
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    auto used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(used);
    if (ec && ec != http::error::need_more)
      return ec;
    if (used == 0) {
      // The client sent nothing more: the connection ends here.
      ec = {};
      parser.put_eof(ec);
      return ec ? ec : boost::beast::error_code{http::error::need_more};
    }
    ec = {};
  }
  return ec;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const kws::rest::server_options opts;
  kws::rest::request_parser parser;
  kws::rest::limit_parser(parser, opts);
  if (auto ec = parse(parser, kws::fuzz::as_text(data, size))) {
    auto res = kws::rest::read_error_response(ec);
    check(res.status == 400 || res.status == 413 || res.status == 431,
          "a read error answered with an unexpected status");
    return 0;
  }
  // Loopback decides about admin POSTs; alternate it from the input.
  bool loopback = size % 2 == 0;
  auto accepted = kws::rest::accept_request(parser.get(), loopback, opts);
  if (auto* res = std::get_if<kws::http_response>(&accepted)) {
    check(res->status == 400 || res->status == 403 || res->status == 405,
          "a refused request answered with an unexpected status");
    return 0;
  }
  const auto& req = std::get<kws::http_request>(accepted);
  check(req.method == "GET" || req.method == "HEAD"
          || (req.method == "POST" && loopback),
        "a method the handler must never see");
  check(req.path.find('\0') == std::string::npos, "a NUL in the path");
  constexpr uint32_t max_limit = 1000;
  const auto& resolve = kws::fuzz::recorded_resolver();
  auto m = kws::rest::match_route(req.path);
  if (m.which == kws::rest::route::events)
    static_cast<void>(kws::rest::parse_event_query(req, max_limit, resolve));
  else if (m.which == kws::rest::route::object_history)
    static_cast<void>(kws::rest::parse_history_query(
      req, m.ns, m.resource_type, m.name, max_limit, resolve));
  return 0;
}
