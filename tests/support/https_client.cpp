#include "tests/support/https_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/x509.h>

#include <chrono>

namespace kws::test {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

std::string peer_common_name(SSL* ssl) {
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (peer == nullptr)
    return {};
  char name[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name,
                            sizeof name);
  X509_free(peer);
  return name;
}

} // namespace

https_result https_call(uint16_t port, const std::string& trusted_pem,
                        const std::string& method, const std::string& target,
                        const header_list& headers, const test_cert* client,
                        const std::string& body) {
  https_result out;
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  beast::error_code ec;
  ctx.add_certificate_authority(net::buffer(trusted_pem), ec);
  if (ec) {
    out.error = "the trusted certificate: " + ec.message();
    return out;
  }
  if (client) {
    ctx.use_certificate_chain(net::buffer(client->cert_pem), ec);
    if (!ec)
      ctx.use_private_key(net::buffer(client->key_pem), ssl::context::pem, ec);
    if (ec) {
      out.error = "the client certificate: " + ec.message();
      return out;
    }
  }
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};
  stream.set_verify_callback(ssl::host_name_verification("localhost"));
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_after(std::chrono::seconds{30});
  tcp.connect({net::ip::make_address("127.0.0.1"), port}, ec);
  if (!ec)
    stream.handshake(ssl::stream_base::client, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  out.peer_name = peer_common_name(stream.native_handle());
  http::request<http::string_body> req{http::string_to_verb(method), target,
                                       11};
  req.set(http::field::host, "localhost");
  for (const auto& [name, value] : headers)
    req.insert(name, value);
  req.keep_alive(false);
  if (!body.empty()) {
    req.body() = body;
    req.prepare_payload();
  }
  http::write(stream, req, ec);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(size_t{64} << 20U);
  if (!ec)
    http::read(stream, buf, parser, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  out.status = parser.get().result_int();
  out.body = parser.get().body();
  stream.shutdown(ec); // the server's close_notify; its absence is no failure
  return out;
}

} // namespace kws::test
