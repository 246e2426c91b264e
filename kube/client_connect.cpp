// How a client reaches its apiserver: the server URL, the TLS context of
// the configuration, and one new TCP+TLS connection with every step bounded
// by the connect timeout (the resolver itself has none).
#include "kube/client_impl.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace kws::kube {

caf::expected<server_url> parse_server(const std::string& server,
                                       const std::string& source) {
  auto fail = [&](std::string_view why) {
    return caf::make_error(
      ec::config_error,
      fmt::format("server '{}' of {}: {}", server, source, why));
  };
  std::string_view rest{server};
  if (rest.starts_with("http://"))
    return fail("plain http is not supported, use https");
  if (!rest.starts_with("https://"))
    return fail("the URL must start with https://");
  rest.remove_prefix(8);
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  server_url result;
  if (slash != std::string_view::npos) {
    result.base_path = std::string{rest.substr(slash)};
    while (!result.base_path.empty() && result.base_path.back() == '/')
      result.base_path.pop_back();
  }
  if (hostport.starts_with("[")) {
    auto close = hostport.find(']');
    if (close == std::string_view::npos)
      return fail("unbalanced '[' in the host");
    result.host = std::string{hostport.substr(1, close - 1)};
    auto after = hostport.substr(close + 1);
    if (!after.empty() && after.front() == ':')
      result.port = std::string{after.substr(1)};
    else if (!after.empty())
      return fail("garbage after the IPv6 host");
  } else {
    auto colon = hostport.rfind(':');
    result.host = std::string{hostport.substr(0, colon)};
    if (colon != std::string_view::npos)
      result.port = std::string{hostport.substr(colon + 1)};
  }
  if (result.host.empty())
    return fail("no host");
  if (result.port.empty())
    result.port = "443";
  return result;
}

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

caf::expected<std::shared_ptr<ssl::context>>
make_ssl_context(const cluster_config& cfg, const std::string& cert_pem,
                 const std::string& key_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                     | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                     | ssl::context::no_tlsv1_1,
                   ec);
  if (cfg.insecure_skip_tls_verify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (!cfg.ca_pem.empty()) {
      // Only the given CA, like client-go: no system roots added.
      ctx->add_certificate_authority(asio::buffer(cfg.ca_pem), ec);
      if (ec)
        return caf::make_error(
          ec::config_error,
          fmt::format("cannot use the certificate authority {} of {}: {}",
                      cfg.ca_file.empty() ? "(inline data)" : cfg.ca_file,
                      cfg.source, ec.message()));
    } else {
      ctx->set_default_verify_paths(ec);
    }
  }
  if (!cert_pem.empty()) {
    ctx->use_certificate_chain(asio::buffer(cert_pem), ec);
    if (ec)
      return caf::make_error(ec::config_error,
                             fmt::format("cannot use the client certificate "
                                         "of {}: {}",
                                         cfg.source, ec.message()));
    ctx->use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
    if (ec)
      return caf::make_error(ec::config_error,
                             fmt::format("cannot use the client key of {}: {}",
                                         cfg.source, ec.message()));
  }
  return ctx;
}

namespace {

void set_keepalive(tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(asio::socket_base::keep_alive{true}, ec);
  // Detect half-open connections within about a minute.
  int idle = 30;
  int interval = 10;
  int count = 3;
  auto fd = socket.native_handle();
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

} // namespace

void client::impl::connect(
  const std::function<void(caf::expected<std::shared_ptr<connection>>)>& done) {
  auto self = shared_from_this();
  auto conn = std::make_shared<connection>(*this, ssl_ctx);
  conn->id = enroll(conn);
  auto resolver = std::make_shared<tcp::resolver>(ioc);
  auto fail = [self, conn, done](std::string what) {
    conn->close_now();
    done(caf::make_error(ec::transport_error, std::move(what)));
  };
  // Bound the resolve as well: the resolver itself has no deadline.
  auto timer = std::make_shared<asio::steady_timer>(ioc);
  timer->expires_after(opts.connect_timeout);
  timer->async_wait([resolver](boost::system::error_code ec) {
    if (!ec)
      resolver->cancel();
  });
  resolver->async_resolve(
    url.host, url.port,
    [self, conn, resolver, timer, done,
     fail](boost::system::error_code ec,
           const tcp::resolver::results_type& results) {
      timer->cancel();
      if (ec || self->stopped || conn->closed) {
        fail(fmt::format("cannot resolve {} ({}): {}", self->authority,
                         self->cfg.source,
                         ec ? ec.message() : "client stopped"));
        return;
      }
      auto& lowest = beast::get_lowest_layer(conn->stream);
      lowest.expires_after(self->opts.connect_timeout);
      lowest.async_connect(
        results,
        [self, conn, done, fail](boost::system::error_code ec,
                                 const tcp::endpoint&) {
          if (ec || conn->closed) {
            fail(fmt::format("cannot connect to {} ({}): {}", self->authority,
                             self->cfg.source,
                             ec ? ec.message() : "client stopped"));
            return;
          }
          set_keepalive(beast::get_lowest_layer(conn->stream).socket());
          auto* ssl = conn->stream.native_handle();
          if (!self->verify_is_ip)
            SSL_set_tlsext_host_name(ssl, self->verify_name.c_str());
          if (!self->cfg.insecure_skip_tls_verify) {
            auto* param = SSL_get0_param(ssl);
            if (self->verify_is_ip) {
              X509_VERIFY_PARAM_set1_ip_asc(param, self->verify_name.c_str());
            } else {
              X509_VERIFY_PARAM_set_hostflags(
                param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
              X509_VERIFY_PARAM_set1_host(param, self->verify_name.c_str(), 0);
            }
          }
          conn->stream.async_handshake(
            ssl::stream_base::client,
            [self, conn, done, fail](boost::system::error_code ec) {
              if (ec || conn->closed) {
                std::string detail = ec ? ec.message() : "client stopped";
                auto verify
                  = SSL_get_verify_result(conn->stream.native_handle());
                if (ec && verify != X509_V_OK)
                  detail = fmt::format("certificate verification failed for "
                                       "'{}': {}",
                                       self->verify_name,
                                       X509_verify_cert_error_string(verify));
                fail(fmt::format("TLS handshake with {} ({}) failed: {}",
                                 self->authority, self->cfg.source, detail));
                return;
              }
              done(conn);
            });
        });
    });
}

} // namespace kws::kube
