#include "tests/support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace kws::test {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

http_result http_call(uint16_t port, const std::string& method,
                      const std::string& target,
                      const std::map<std::string, std::string>& headers,
                      const std::string& body) {
  http_result result;
  boost::asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(
    tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec)
    return result;
  http::request<http::string_body> req{http::string_to_verb(method), target,
                                       11};
  if (req.method() == http::verb::unknown)
    req.method_string(method);
  req.set(http::field::host, "localhost");
  for (auto& [k, v] : headers)
    req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec)
    return result;
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1024} * 1024 * 1024);
  parser.skip(method == "HEAD");
  http::read(stream, buf, parser, ec);
  if (ec)
    return result;
  auto& res = parser.get();
  result.status = static_cast<int>(res.result_int());
  for (auto& field : res)
    result.headers[std::string{field.name_string()}]
      = std::string{field.value()};
  result.body = res.body();
  return result;
}

} // namespace kws::test
