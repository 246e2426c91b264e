// The server against clients that hold connections: many idle ones from one
// address, a head sent a byte at a time, a large answer read slowly.
#include "rest/connection_book.hpp"
#include "rest/server.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/socket_reading.hpp"
#include "util/errors.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace kws::rest {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

using test::read_until_closed;

constexpr size_t big_body = size_t{16} << 20;

struct server_limits_test : ::testing::Test {
  net::io_context ioc;
  std::unique_ptr<server> srv;
  /// Requests the handler got.
  std::atomic<int> handled{0};

  void start(server_options opts) {
    opts.address = "0.0.0.0";
    opts.port = 0;
    auto s = server::start(opts, [this](http_request req, responder_ptr rp) {
      ++handled;
      http_response res;
      res.body = req.path == "/big" ? std::string(big_body, 'x')
                                    : R"({"path":")" + req.path + "\"}";
      rp->deliver(std::move(res));
    });
    ASSERT_TRUE(s) << render(s.error());
    srv = std::move(*s);
  }

  /// A connection from `from` (a loopback address) to the server.
  std::unique_ptr<tcp::socket> connect(const char* from = "127.0.0.1",
                                       int receive_buffer = 0) {
    auto sock = std::make_unique<tcp::socket>(ioc);
    sock->open(tcp::v4());
    if (receive_buffer > 0)
      sock->set_option(net::socket_base::receive_buffer_size{receive_buffer});
    sock->bind({net::ip::make_address(from), 0});
    // A test that goes wrong fails instead of waiting forever.
    timeval limit{20, 0};
    setsockopt(sock->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit,
               sizeof(limit));
    sock->connect({net::ip::make_address("127.0.0.1"), srv->port()});
    return sock;
  }

  /// Sends `GET path` on `sock` and returns everything read until close.
  static std::string ask(tcp::socket& sock, const std::string& path) {
    net::write(sock,
               net::buffer("GET " + path
                           + " HTTP/1.1\r\nHost: x\r\n"
                             "Connection: close\r\n\r\n"));
    return read_all(sock);
  }

  /// Waits until the server's connections satisfy `pred`; false after 10 s
  /// (the server accepts and reads on its own threads).
  template <class Pred>
  bool wait_for_book(Pred pred) {
    for (int i = 0; i < 2000; ++i) {
      if (pred(srv->connections()))
        return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred(srv->connections());
  }

  /// A client asking for the big answer and reading none of it (a small
  /// receive buffer), once the handler has its request.
  std::unique_ptr<tcp::socket> ask_big_unread() {
    auto sock = connect("127.0.0.1", 64 * 1024);
    net::write(*sock,
               net::buffer(std::string{"GET /big HTTP/1.1\r\nHost: x\r\n"
                                       "Connection: close\r\n\r\n"}));
    for (int i = 0; i < 2000 && handled < 1; ++i)
      std::this_thread::sleep_for(5ms);
    return sock;
  }

  static std::string read_all(tcp::socket& sock) {
    std::string out;
    std::array<char, 4096> buf;
    boost::system::error_code ec;
    for (;;) {
      auto n = sock.read_some(net::buffer(buf), ec);
      if (ec)
        break;
      out.append(buf.data(), n);
    }
    return out;
  }
};

TEST_F(server_limits_test, a_client_holding_its_share_does_not_starve_others) {
  server_options opts;
  opts.max_connections_per_client = 3;
  start(opts);
  std::vector<std::unique_ptr<tcp::socket>> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(connect("127.0.0.2"));
  // The holder itself gets no more, except probes.
  auto more = connect("127.0.0.2");
  auto refused = ask(*more, "/api/v1/events");
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0U) << refused;
  auto probe = connect("127.0.0.2");
  auto health = ask(*probe, "/health");
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0U) << health;
  // Everyone else is served as before.
  auto other = connect("127.0.0.3");
  auto answer = ask(*other, "/api/v1/events");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0U) << answer;
  EXPECT_NE(answer.find(R"({"path":"/api/v1/events"})"), std::string::npos);
}

TEST_F(server_limits_test, probes_are_answered_when_every_connection_is_taken) {
  server_options opts;
  opts.max_connections = 4;
  start(opts);
  // Busy connections: each in the middle of a request, none gives way.
  std::vector<std::unique_ptr<tcp::socket>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(connect("127.0.0.2"));
    net::write(*held.back(), net::buffer(std::string{"GET /a HTTP/1.1\r\n"}));
  }
  ASSERT_TRUE(
    wait_for_book([](const auto& c) { return c.full == 4 && c.idle == 0; }));
  for (const char* path : {"/health", "/livez", "/readyz"}) {
    auto probe = connect("127.0.0.3");
    auto out = ask(*probe, path);
    EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << path << ": " << out;
  }
  auto query = connect("127.0.0.3");
  auto out = ask(*query, "/api/v1/events");
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0U) << out;
}

TEST_F(server_limits_test,
       idle_connections_give_way_when_every_place_is_taken) {
  server_options opts;
  opts.max_connections = 4;
  opts.max_connections_per_client = 2;
  opts.probe_reserve = 2;
  opts.read_timeout = 1h; // nothing closes on its own
  opts.head_timeout = 1h;
  start(opts);
  // Each connection is in the book before the next one opens, so that
  // which one idled longest is known.
  auto open_and_wait
    = [&](const char* from, size_t full, size_t probes, size_t idle) {
        auto sock = connect(from);
        EXPECT_TRUE(wait_for_book([&](const connection_counts& c) {
          return c.full == full && c.probes_only == probes && c.idle == idle;
        }))
          << from;
        return sock;
      };
  // 127.0.0.2: one connection in the middle of a request, one idle, and
  // two beyond its share that may only probe (idle too).
  auto half = connect("127.0.0.2");
  net::write(*half, net::buffer(std::string{"GET /a HTTP/1.1\r\nHo"}));
  ASSERT_TRUE(wait_for_book(
    [](const connection_counts& c) { return c.full == 1 && c.idle == 0; }));
  auto idle_2 = open_and_wait("127.0.0.2", 2, 0, 1);
  auto idle_3a = open_and_wait("127.0.0.3", 3, 0, 2);
  auto idle_3b = open_and_wait("127.0.0.3", 4, 0, 3);
  auto probe_2a = open_and_wait("127.0.0.2", 4, 1, 4);
  auto probe_2b = open_and_wait("127.0.0.2", 4, 2, 5);
  auto evicted_before = srv->connections().evicted;
  // Every place is taken: a probe from elsewhere is served all the same,
  // in the place of the idle connection of the address holding the most.
  auto probe = connect("127.0.0.4");
  auto out = ask(*probe, "/livez");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << out;
  auto evicted = read_until_closed(*idle_2);
  EXPECT_TRUE(evicted.eof);
  EXPECT_EQ(evicted.data, "");
  EXPECT_EQ(srv->connections().evicted, evicted_before + 1);
  // The probe's connection closed; a new idle one fills its place.
  ASSERT_TRUE(wait_for_book([](const connection_counts& c) {
    return c.full == 3 && c.probes_only == 2 && c.idle == 4;
  }));
  auto idle_6 = open_and_wait("127.0.0.6", 4, 2, 5);
  // 127.0.0.2 has no idle connection served in full left: the next newcomer
  // takes the place of 127.0.0.3's connection idle longest.
  auto query = connect("127.0.0.5");
  out = ask(*query, "/api/v1/events");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << out;
  EXPECT_TRUE(read_until_closed(*idle_3a).eof);
  // The half sent request was never evicted: it is answered once whole.
  net::write(*half,
             net::buffer(std::string{"st: x\r\nConnection: close\r\n\r\n"}));
  out = read_until_closed(*half).data;
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << out;
  EXPECT_NE(out.find(R"({"path":"/a"})"), std::string::npos) << out;
  EXPECT_EQ(srv->connections().evicted, evicted_before + 2);
}

TEST_F(server_limits_test, a_head_sent_a_byte_at_a_time_is_cut_off) {
  server_options opts;
  opts.read_timeout = 1h; // an idle connection may stay that long
  opts.head_timeout = 200ms;
  start(opts);
  auto slow = connect();
  net::write(*slow, net::buffer(std::string{"GET /a HTTP/1.1\r\nHo"}));
  // The server closes it once the head timeout passes; without the head
  // timeout the read below would end only at the receive limit (an error).
  std::array<char, 256> buf;
  boost::system::error_code ec;
  while (!ec)
    slow->read_some(net::buffer(buf), ec);
  EXPECT_EQ(ec, net::error::eof) << ec.message();
}

TEST_F(server_limits_test, an_idle_connection_is_not_held_to_the_head_timeout) {
  server_options opts;
  opts.read_timeout = 1h;
  opts.head_timeout = 100ms;
  start(opts);
  auto idle = connect();
  std::this_thread::sleep_for(400ms);
  auto out = ask(*idle, "/a");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << out;
}

TEST_F(server_limits_test, a_slow_reader_gets_the_whole_answer) {
  server_options opts;
  // Far less than reading the whole answer takes, more than any one pause.
  opts.read_timeout = 500ms;
  start(opts);
  auto reader = connect("127.0.0.1", 64 * 1024);
  net::write(*reader,
             net::buffer(std::string{"GET /big HTTP/1.1\r\nHost: x\r\n"
                                     "Connection: close\r\n\r\n"}));
  std::string out;
  std::array<char, size_t{64} << 10> buf;
  boost::system::error_code ec;
  for (;;) {
    auto n = reader->read_some(net::buffer(buf), ec);
    if (ec)
      break;
    out.append(buf.data(), n);
    std::this_thread::sleep_for(5ms);
  }
  auto body = out.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos) << out.substr(0, 200);
  EXPECT_EQ(out.size() - body - 4, big_body);
}

TEST_F(server_limits_test, requests_wait_while_unread_answers_fill_the_budget) {
  server_options opts;
  // One held byte fills it: the big answer, unread, holds it alone.
  opts.answers = answer_limits{8, 1};
  start(opts);
  auto first = ask_big_unread();
  ASSERT_EQ(handled, 1);
  auto second = connect();
  net::write(*second,
             net::buffer(std::string{"GET /small HTTP/1.1\r\nHost: x\r\n"
                                     "Connection: close\r\n\r\n"}));
  for (int i = 0; i < 2000 && srv->requests_waiting() < 1; ++i)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(srv->requests_waiting(), 1U);
  EXPECT_EQ(handled, 1) << "the second request must wait for room";
  // Probes never wait for the budget.
  auto probe = connect();
  auto health = ask(*probe, "/health");
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0U) << health.substr(0, 200);
  // Reading the big answer makes room: the second is answered.
  auto big = read_until_closed(*first, 20s);
  ASSERT_TRUE(big.eof);
  auto body = big.data.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(big.data.size() - body - 4, big_body);
  auto small = read_until_closed(*second);
  EXPECT_EQ(small.data.rfind("HTTP/1.1 200", 0), 0U)
    << small.data.substr(0, 200);
  EXPECT_NE(small.data.find(R"({"path":"/small"})"), std::string::npos);
  EXPECT_EQ(handled, 2);
  EXPECT_EQ(srv->requests_waiting(), 0U);
}

TEST_F(server_limits_test, a_request_that_waits_too_long_gets_504) {
  server_options opts;
  opts.answers = answer_limits{8, 1};
  opts.handler_timeout = 300ms;
  opts.read_timeout = 5s;
  start(opts);
  auto first = ask_big_unread();
  ASSERT_EQ(handled, 1);
  auto second = connect();
  auto out = ask(*second, "/small");
  EXPECT_EQ(out.rfind("HTTP/1.1 504", 0), 0U) << out.substr(0, 200);
  EXPECT_EQ(handled, 1);
  // Its place in the queue is given up: once the big answer is read, the
  // next request starts at once.
  auto big = read_until_closed(*first, 20s);
  EXPECT_TRUE(big.eof);
  auto third = connect();
  out = ask(*third, "/small");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0U) << out.substr(0, 200);
  EXPECT_EQ(handled, 2);
}

} // namespace
} // namespace kws::rest
