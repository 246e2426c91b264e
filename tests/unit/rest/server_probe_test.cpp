// The server answers the kubelet's probes itself, on its io thread, so they
// never wait behind pages: here the handler holds every request it gets
// until the test lets go, and the probes are answered all the same.
#include "rest/server.hpp"
#include "tests/support/socket_reading.hpp"
#include "util/errors.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kws::rest {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

using test::read_until_closed;

struct server_probe_test : ::testing::Test {
  net::io_context ioc;
  std::unique_ptr<server> srv;
  std::mutex mtx;
  /// The paths the handler got, and the answers it holds.
  std::vector<std::string> seen;
  std::vector<responder_ptr> held;
  std::vector<access_entry> logged;
  std::atomic<uint16_t> ready_status{503};

  void TearDown() override {
    release();
    if (srv)
      srv->stop();
  }

  /// Starts a server whose handler answers nothing until `release`.
  void start(server_options opts = {}) {
    opts.address = "127.0.0.1";
    opts.port = 0;
    opts.handler_timeout = 1h; // a probe the handler got would hang
    opts.on_access = [this](const access_entry& e) {
      std::lock_guard guard{mtx};
      logged.push_back(e);
    };
    auto s = server::start(opts, [this](http_request req, responder_ptr rp) {
      std::lock_guard guard{mtx};
      seen.push_back(req.path);
      held.push_back(std::move(rp));
    });
    ASSERT_TRUE(s) << render(s.error());
    srv = std::move(*s);
  }

  /// Lets the handler answer everything it holds.
  void release() {
    std::vector<responder_ptr> now;
    {
      std::lock_guard guard{mtx};
      now.swap(held);
    }
    for (auto& rp : now) {
      http_response res;
      res.body = R"({"page":true})";
      rp->deliver(std::move(res));
    }
  }

  /// The paths the handler got once it got `n`; fails after 10 s.
  std::vector<std::string> wait_for_seen(size_t n) {
    for (int i = 0; i < 2000; ++i) {
      {
        std::lock_guard guard{mtx};
        if (seen.size() >= n)
          return seen;
      }
      std::this_thread::sleep_for(5ms);
    }
    std::lock_guard guard{mtx};
    ADD_FAILURE() << "the handler got " << seen.size() << " requests";
    return seen;
  }

  /// A connection to the server that sent `method path`.
  std::unique_ptr<tcp::socket> send(const std::string& path,
                                    const std::string& method = "GET") {
    auto sock = std::make_unique<tcp::socket>(ioc);
    sock->connect({net::ip::make_address("127.0.0.1"), srv->port()});
    net::write(*sock,
               net::buffer(method + " " + path
                           + " HTTP/1.1\r\nHost: x\r\n"
                             "Connection: close\r\n\r\n"));
    return sock;
  }

  /// Everything `sock` reads until the server closes it (at most 10 s).
  static std::string read_all(tcp::socket& sock) {
    return read_until_closed(sock).data;
  }

  std::string ask(const std::string& path) { return read_all(*send(path)); }

  /// The body of a whole answer.
  static std::string body_of(const std::string& out) {
    auto at = out.find("\r\n\r\n");
    return at == std::string::npos ? std::string{} : out.substr(at + 4);
  }
};

TEST_F(server_probe_test, liveness_is_answered_while_the_handler_holds_a_page) {
  start();
  auto page = send("/api/v1/events");
  ASSERT_EQ(wait_for_seen(1), std::vector<std::string>{"/api/v1/events"});
  for (auto [path, body] : {std::pair{"/livez", R"({"status":"live"})"},
                            std::pair{"/health", R"({"status":"ok"})"},
                            std::pair{"/healthz", R"({"status":"ok"})"}}) {
    auto out = ask(path);
    EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << path << ": " << out;
    EXPECT_EQ(body_of(out), body) << path;
  }
  // HEAD too, without a body.
  {
    auto out = read_all(*send("/livez", "HEAD"));
    EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << out;
    EXPECT_NE(out.find("Content-Length: 17"), std::string::npos) << out;
    EXPECT_EQ(body_of(out), "");
  }
  // The handler got the page only, and still holds it: it answers now.
  {
    std::lock_guard guard{mtx};
    EXPECT_EQ(seen, std::vector<std::string>{"/api/v1/events"});
  }
  release();
  auto out = read_all(*page);
  EXPECT_EQ(body_of(out), R"({"page":true})") << out;
}

TEST_F(server_probe_test, readiness_comes_from_its_source_not_the_handler) {
  server_options opts;
  opts.readiness = [this] {
    http_response res;
    res.status = ready_status;
    res.body = ready_status == 200 ? R"({"status":"ready"})"
                                   : R"({"status":"not ready"})";
    return res;
  };
  start(opts);
  auto page = send("/api/v1/events");
  ASSERT_EQ(wait_for_seen(1).size(), 1U);
  auto out = ask("/readyz");
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0U) << out;
  EXPECT_EQ(body_of(out), R"({"status":"not ready"})");
  ready_status = 200;
  out = ask("/readyz");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << out;
  EXPECT_EQ(body_of(out), R"({"status":"ready"})");
  std::lock_guard guard{mtx};
  EXPECT_EQ(seen, std::vector<std::string>{"/api/v1/events"});
  // As before: the access log keeps the failed probe, not the good ones.
  ASSERT_EQ(logged.size(), 1U);
  EXPECT_EQ(logged[0].target, "/readyz");
  EXPECT_EQ(logged[0].status, 503);
}

TEST_F(server_probe_test, without_a_source_readiness_goes_to_the_handler) {
  start();
  auto probe = send("/readyz");
  EXPECT_EQ(wait_for_seen(1), std::vector<std::string>{"/readyz"});
  release();
  EXPECT_EQ(body_of(read_all(*probe)), R"({"page":true})");
}

} // namespace
} // namespace kws::rest
