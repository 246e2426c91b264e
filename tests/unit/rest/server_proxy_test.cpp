// `auth.mode: proxy` over real TLS: the server believes the identity headers
// only from a connection whose client certificate the proxy CA signed for an
// allowed name, and never passes the headers themselves on.
#include "rest/server.hpp"
#include "rest/tls_source.hpp"
#include "tests/support/https_client.hpp"
#include "tests/support/test_certs.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <vector>

namespace kws::rest {
namespace {

using test::make_client_cert;
using test::make_test_cert;
using test::test_cert;
using test::write_text;

struct server_proxy_test : ::testing::Test {
  std::filesystem::path dir;
  test_cert server_cert = make_test_cert("kws-proxy-test");
  test_cert proxy_ca = make_test_cert("front-proxy-ca");
  std::unique_ptr<server> srv;
  std::mutex mtx;
  std::vector<http_request> seen;

  void SetUp() override {
    dir = std::filesystem::temp_directory_path()
      / ("kws-proxy-" + std::to_string(::getpid()) + "-"
         + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    write_text((dir / "tls.crt").string(), server_cert.cert_pem);
    write_text((dir / "tls.key").string(), server_cert.key_pem);
    write_text((dir / "ca.crt").string(), proxy_ca.cert_pem);
    proxy_trust trust;
    trust.allowed_names = {"front-proxy", "other-proxy"};
    auto src = tls_source::load({(dir / "tls.crt").string(),
                                 (dir / "tls.key").string(),
                                 (dir / "ca.crt").string()});
    ASSERT_TRUE(src) << render(src.error());
    server_options opts;
    opts.address = "127.0.0.1";
    opts.port = 0;
    opts.tls = *src;
    opts.proxy = trust;
    auto s = server::start(opts, [this](http_request req, responder_ptr rp) {
      {
        std::lock_guard guard{mtx};
        seen.push_back(req);
      }
      rp->deliver(http_response{});
    });
    ASSERT_TRUE(s) << render(s.error());
    srv = std::move(*s);
  }

  void TearDown() override {
    srv.reset();
    std::filesystem::remove_all(dir);
  }

  /// What the handler got for a GET with `headers`, presenting `client`.
  http_request ask(const test::header_list& headers, const test_cert* client) {
    auto res = test::https_call(srv->port(), server_cert.cert_pem, "GET",
                                "/api/v1/events", headers, client);
    EXPECT_EQ(res.error, "");
    EXPECT_EQ(res.status, 200) << res.body;
    std::lock_guard guard{mtx};
    if (seen.empty()) {
      ADD_FAILURE() << "the handler got no request";
      return {};
    }
    auto last = seen.back();
    seen.clear();
    return last;
  }
};

const test::header_list admin_headers = {{"X-Remote-User", "alice"},
                                         {"X-Remote-Group", "dev"},
                                         {"X-Remote-Group", "ops"}};

TEST_F(server_proxy_test, the_proxy_certificate_makes_its_headers_believed) {
  auto proxy = make_client_cert(proxy_ca, "front-proxy");
  auto req = ask(admin_headers, &proxy);
  EXPECT_EQ(req.proxied.user, "alice");
  EXPECT_EQ(req.proxied.groups, (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(req.proxy_refusal, "");
  // The decision travels, the headers do not.
  EXPECT_EQ(req.headers.count("x-remote-user"), 0U);
}

TEST_F(server_proxy_test, headers_without_a_certificate_are_not_believed) {
  auto req = ask(admin_headers, nullptr);
  EXPECT_EQ(req.proxied.user, "");
  EXPECT_TRUE(req.proxied.groups.empty());
  EXPECT_NE(req.proxy_refusal.find("must come through the front proxy"),
            std::string::npos)
    << req.proxy_refusal;
}

TEST_F(server_proxy_test, a_certificate_of_the_ca_for_another_name_is_refused) {
  auto stranger = make_client_cert(proxy_ca, "some-workload");
  auto req = ask(admin_headers, &stranger);
  EXPECT_EQ(req.proxied.user, "");
  EXPECT_NE(req.proxy_refusal.find("'some-workload' is not one of"),
            std::string::npos)
    << req.proxy_refusal;
}

TEST_F(server_proxy_test, a_certificate_of_another_ca_fails_the_handshake) {
  auto other_ca = make_test_cert("front-proxy-ca");
  auto forged = make_client_cert(other_ca, "front-proxy");
  auto res = test::https_call(srv->port(), server_cert.cert_pem, "GET",
                              "/api/v1/events", admin_headers, &forged);
  EXPECT_NE(res.error, "");
  EXPECT_EQ(res.status, 0);
  std::lock_guard guard{mtx};
  EXPECT_TRUE(seen.empty());
}

TEST_F(server_proxy_test, probes_need_no_certificate) {
  auto res
    = test::https_call(srv->port(), server_cert.cert_pem, "GET", "/health");
  EXPECT_EQ(res.error, "");
  EXPECT_EQ(res.status, 200) << res.body;
}

} // namespace
} // namespace kws::rest
