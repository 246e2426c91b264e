// The HTTP server with TLS over real loopback sockets: the handshake, a
// certificate changed on disk, a pair that does not load, and what a client
// that does not speak TLS gets.
#include "rest/server.hpp"
#include "rest/tls_source.hpp"
#include "tests/support/https_client.hpp"
#include "tests/support/test_certs.hpp"
#include "util/errors.hpp"
#include "util/metrics.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>

namespace kws::rest {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using test::make_test_cert;
using test::test_cert;
using test::write_text;

/// GET `target` over TLS, trusting only `trusted` (PEM).
test::https_result https_get(uint16_t port, const std::string& trusted,
                             const std::string& target) {
  return test::https_call(port, trusted, "GET", target);
}

struct server_tls_test : ::testing::Test {
  std::filesystem::path dir;
  std::string cert_file;
  std::string key_file;
  std::unique_ptr<server> srv;
  std::shared_ptr<tls_source> tls;

  void SetUp() override {
    dir = std::filesystem::temp_directory_path()
      / ("kws-tls-" + std::to_string(::getpid()) + "-"
         + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    cert_file = (dir / "tls.crt").string();
    key_file = (dir / "tls.key").string();
  }

  void TearDown() override {
    srv.reset();
    std::filesystem::remove_all(dir);
  }

  void install(const test_cert& c) {
    write_text(cert_file, c.cert_pem);
    write_text(key_file, c.key_pem);
  }

  /// Starts the server with the installed pair, reading it again on every
  /// new connection when `check_interval` is 0.
  void start(std::chrono::milliseconds check_interval,
             server_options opts = {}) {
    auto src = tls_source::load({cert_file, key_file}, check_interval);
    ASSERT_TRUE(src) << render(src.error());
    tls = *src;
    opts.address = "127.0.0.1";
    opts.port = 0;
    opts.tls = tls;
    auto s = server::start(opts, [](http_request req, responder_ptr rp) {
      http_response res;
      res.body = R"({"path":")" + req.path + "\"}";
      rp->deliver(std::move(res));
    });
    ASSERT_TRUE(s) << render(s.error());
    srv = std::move(*s);
  }
};

TEST_F(server_tls_test, answers_over_tls_with_the_configured_certificate) {
  auto first = make_test_cert("first");
  install(first);
  start(std::chrono::seconds{1});
  auto answer = https_get(srv->port(), first.cert_pem, "/api/v1/events");
  ASSERT_EQ(answer.error, "");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, R"({"path":"/api/v1/events"})");
  EXPECT_EQ(answer.peer_name, "first");
}

TEST_F(server_tls_test, a_client_trusting_another_certificate_fails) {
  install(make_test_cert("first"));
  start(std::chrono::seconds{1});
  auto answer
    = https_get(srv->port(), make_test_cert("other").cert_pem, "/health");
  EXPECT_NE(answer.error, "");
  EXPECT_EQ(answer.status, 0);
}

/// Sends `bytes` over plain TCP and returns all the server answers.
std::string plain_exchange(uint16_t port, const std::string& bytes) {
  net::io_context ioc;
  net::ip::tcp::socket sock{ioc};
  sock.connect({net::ip::make_address("127.0.0.1"), port});
  net::write(sock, net::buffer(bytes));
  std::string got;
  beast::error_code ec;
  std::array<char, 512> buf{};
  for (;;) {
    auto n = sock.read_some(net::buffer(buf), ec);
    if (ec)
      break;
    got.append(buf.data(), n);
  }
  return got;
}

constexpr const char* plain_health
  = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

TEST_F(server_tls_test, plain_http_from_loopback_is_served_on_the_tls_port) {
  install(make_test_cert("first"));
  start(std::chrono::seconds{1});
  auto got = plain_exchange(srv->port(), plain_health);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200")) << got;
  // The server answers the probe itself.
  EXPECT_NE(got.find(R"({"status":"ok"})"), std::string::npos) << got;
}

TEST_F(server_tls_test, plain_http_is_told_to_use_https) {
  auto first = make_test_cert("first");
  install(first);
  server_options opts;
  opts.tls_plain_loopback = false;
  start(std::chrono::seconds{1}, opts);
  auto got = plain_exchange(srv->port(), plain_health);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 400")) << got;
  EXPECT_NE(got.find("use https://"), std::string::npos) << got;
  // The server is still well: a TLS client is answered.
  auto answer = https_get(srv->port(), first.cert_pem, "/health");
  EXPECT_EQ(answer.status, 200) << answer.error;
}

TEST_F(server_tls_test, a_changed_certificate_serves_new_connections) {
  install(make_test_cert("first"));
  start(std::chrono::milliseconds{0});
  auto second = make_test_cert("second");
  install(second);
  auto answer = https_get(srv->port(), second.cert_pem, "/health");
  ASSERT_EQ(answer.error, "");
  EXPECT_EQ(answer.peer_name, "second");
  EXPECT_EQ(tls->reloads(), 1U);
  EXPECT_EQ(tls->failures(), 0U);
}

TEST_F(server_tls_test, a_pair_that_does_not_load_keeps_the_last_good_one) {
  auto& failed = metrics::get_counter("kws_http_tls_reloads_total", "",
                                      "outcome=\"failed\"");
  auto& loaded = metrics::get_counter("kws_http_tls_reloads_total", "",
                                      "outcome=\"loaded\"");
  auto failed_before = failed.value();
  auto loaded_before = loaded.value();
  install(make_test_cert("first"));
  start(std::chrono::milliseconds{0});
  auto second = make_test_cert("second");
  install(second);
  ASSERT_EQ(https_get(srv->port(), second.cert_pem, "/health").peer_name,
            "second");
  // A rotation half done: the new certificate with the old key.
  auto third = make_test_cert("third");
  write_text(cert_file, third.cert_pem);
  auto during = https_get(srv->port(), second.cert_pem, "/health");
  EXPECT_EQ(during.error, "");
  EXPECT_EQ(during.peer_name, "second");
  EXPECT_EQ(tls->failures(), 1U);
  // Its key arrives: the next connection gets the new pair.
  write_text(key_file, third.key_pem);
  auto after = https_get(srv->port(), third.cert_pem, "/health");
  EXPECT_EQ(after.error, "");
  EXPECT_EQ(after.peer_name, "third");
  EXPECT_EQ(tls->reloads(), 2U);
  // The operator sees both outcomes on /metrics.
  EXPECT_EQ(failed.value() - failed_before, 1U);
  EXPECT_EQ(loaded.value() - loaded_before, 2U);
}

TEST_F(server_tls_test, files_are_read_again_only_after_the_check_interval) {
  auto first = make_test_cert("first");
  install(first);
  start(std::chrono::hours{1});
  install(make_test_cert("second"));
  auto answer = https_get(srv->port(), first.cert_pem, "/health");
  EXPECT_EQ(answer.peer_name, "first");
  EXPECT_EQ(tls->reloads(), 0U);
}

TEST_F(server_tls_test, a_silent_client_is_closed_after_the_head_timeout) {
  install(make_test_cert("first"));
  server_options opts;
  opts.head_timeout = std::chrono::milliseconds{200};
  start(std::chrono::seconds{1}, opts);
  net::io_context ioc;
  net::ip::tcp::socket sock{ioc};
  sock.connect({net::ip::make_address("127.0.0.1"), srv->port()});
  std::array<char, 16> buf{};
  beast::error_code ec;
  // No handshake is sent: the server closes instead of waiting forever.
  sock.read_some(net::buffer(buf), ec);
  EXPECT_EQ(ec, net::error::eof);
}

TEST(tls_source_test, an_error_names_the_setting_that_is_wrong) {
  auto dir = std::filesystem::temp_directory_path()
    / ("kws-tls-errors-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto cert = (dir / "tls.crt").string();
  auto key = (dir / "tls.key").string();
  auto a = make_test_cert("a");
  auto b = make_test_cert("b");
  auto message = [&] {
    auto src = tls_source::load({cert, key});
    return src ? std::string{"loaded"} : error_detail(src.error());
  };
  EXPECT_NE(message().find("tls.certFile: cannot read"), std::string::npos);
  write_text(cert, "not a certificate");
  write_text(key, a.key_pem);
  EXPECT_NE(message().find("tls.certFile: holds no usable PEM certificate"),
            std::string::npos)
    << message();
  write_text(cert, a.cert_pem);
  write_text(key, "not a key");
  EXPECT_NE(message().find("tls.keyFile: holds no usable PEM private key"),
            std::string::npos)
    << message();
  write_text(key, b.key_pem);
  EXPECT_NE(message().find("tls.keyFile: is not the key of the certificate"),
            std::string::npos)
    << message();
  write_text(key, a.key_pem);
  EXPECT_EQ(message(), "loaded");
  std::filesystem::remove_all(dir);
}

} // namespace
} // namespace kws::rest
