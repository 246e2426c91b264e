// The HTTP server over real loopback sockets, with a plain handler function.
#include "rest/server.hpp"

#include "rest/routes.hpp"
#include "rest/url.hpp"
#include "tests/support/http_client.hpp"
#include "util/errors.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

namespace kws::rest {
namespace {

using test::http_call;
using test::http_get;

struct server_test : ::testing::Test {
  std::unique_ptr<server> srv;
  std::vector<http_request> seen;
  std::mutex mtx;

  void start(server_options opts = {}) {
    opts.address = "127.0.0.1";
    opts.port = 0;
    auto s = server::start(opts, [this](http_request req, responder_ptr rp) {
      http_response res;
      {
        std::lock_guard guard{mtx};
        seen.push_back(req);
      }
      if (req.path == "/slow")
        return; // never answered: the server's handler timeout must fire
      res.body = R"({"path":")" + req.path + "\"}";
      rp->deliver(std::move(res));
    });
    ASSERT_TRUE(s) << render(s.error());
    srv = std::move(*s);
  }

  /// Sends raw bytes and returns everything the server answers until close.
  std::string raw(const std::string& bytes) {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket sock{ioc};
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), srv->port()});
    boost::asio::write(sock, boost::asio::buffer(bytes));
    std::string out;
    boost::system::error_code ec;
    std::array<char, 4096> buf;
    for (;;) {
      auto n = sock.read_some(boost::asio::buffer(buf), ec);
      if (ec)
        break;
      out.append(buf.data(), n);
    }
    return out;
  }
};

TEST_F(server_test, hands_decoded_requests_to_the_handler) {
  start();
  auto res = http_get(srv->port(),
                      "/api/v1/events?namespace=kube%2Dsystem&resourceName=a+b"
                      "&limit=5");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.headers["Content-Type"], "application/json");
  EXPECT_EQ(res.body, R"({"path":"/api/v1/events"})");
  std::lock_guard guard{mtx};
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].query_names,
            (std::vector<std::string>{"namespace", "resourceName", "limit"}));
  EXPECT_EQ(seen[0].query_values,
            (std::vector<std::string>{"kube-system", "a b", "5"}));
}

TEST_F(server_test, keeps_connections_alive_across_requests) {
  start();
  auto out = raw("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find(R"({"path":"/a"})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"path":"/b"})"), std::string::npos) << out;
}

TEST_F(server_test, an_http10_keep_alive_is_answered_as_kept) {
  start();
  auto out = raw("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                 "GET /b HTTP/1.0\r\n\r\n");
  auto second = out.find("HTTP/1.0 200", 1);
  ASSERT_NE(second, std::string::npos) << out;
  auto first = out.substr(0, second);
  EXPECT_EQ(first.rfind("HTTP/1.0 200 OK\r\n", 0), 0U) << first;
  EXPECT_NE(first.find("Connection: keep-alive\r\n"), std::string::npos)
    << first;
  EXPECT_NE(first.find(R"({"path":"/a"})"), std::string::npos) << first;
  // Without the header an HTTP/1.0 connection ends after its answer.
  EXPECT_NE(out.find(R"({"path":"/b"})", second), std::string::npos) << out;
}

TEST_F(server_test, a_target_without_a_leading_slash_is_400) {
  start();
  auto out = raw("GET api/v1/events HTTP/1.1\r\nHost: x\r\n"
                 "Connection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0U) << out;
  EXPECT_NE(out.find(R"("parameter":"path")"), std::string::npos) << out;
  std::lock_guard guard{mtx};
  EXPECT_TRUE(seen.empty());
}

TEST_F(server_test, head_answers_headers_without_body) {
  start();
  auto res = http_call(srv->port(), "HEAD", "/x");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.headers["Content-Length"], "13");
  EXPECT_TRUE(res.body.empty());
}

TEST_F(server_test, other_methods_are_405_with_allow) {
  start();
  for (auto method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    auto res = http_call(srv->port(), method, "/health");
    EXPECT_EQ(res.status, 405) << method;
    EXPECT_EQ(res.headers["Allow"], "GET, HEAD");
    EXPECT_EQ(res.headers["Content-Type"], "application/json");
    EXPECT_EQ(res.body,
              std::string{R"({"error":"method )"} + method
                + R"( is not allowed"})");
  }
  std::lock_guard guard{mtx};
  EXPECT_TRUE(seen.empty());
}

TEST_F(server_test, admin_paths_take_post_from_loopback) {
  start();
  auto res = http_call(srv->port(), "POST", "/admin/backup?dest=/x");
  EXPECT_EQ(res.status, 200);
  {
    std::lock_guard guard{mtx};
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].path, "/admin/backup");
    EXPECT_TRUE(seen[0].from_loopback);
  }
  res = http_call(srv->port(), "DELETE", "/admin/backup");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers["Allow"], "GET, HEAD, POST");
}

TEST_F(server_test, the_api_and_the_admin_listener_split_the_paths) {
  server_options api;
  api.paths = listener_paths::api;
  start(api);
  // The API's port never serves an admin path, whoever asks.
  auto res = http_call(srv->port(), "POST", "/admin/backup?dest=/x");
  EXPECT_EQ(res.status, 404) << res.body;
  EXPECT_NE(res.body.find("loopback admin port (adminPort)"), std::string::npos)
    << res.body;
  EXPECT_EQ(http_get(srv->port(), "/api/v1/events").status, 200);
  server_options admin;
  admin.paths = listener_paths::admin;
  start(admin);
  res = http_get(srv->port(), "/api/v1/events");
  EXPECT_EQ(res.status, 404) << res.body;
  EXPECT_NE(res.body.find("only the admin endpoints"), std::string::npos)
    << res.body;
  EXPECT_EQ(http_call(srv->port(), "POST", "/admin/backup?dest=/x").status,
            200);
  {
    std::lock_guard guard{mtx};
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].path, "/api/v1/events");
    EXPECT_EQ(seen[1].path, "/admin/backup");
  }
  // The probe port: the probes and nothing else, none of it handled.
  server_options probes;
  probes.paths = listener_paths::probes;
  start(probes);
  for (const char* path : {"/health", "/healthz", "/livez"})
    EXPECT_EQ(http_get(srv->port(), path).status, 200) << path;
  for (const char* path : {"/api/v1/events", "/metrics", "/", "/mcp"}) {
    res = http_get(srv->port(), path);
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_NE(res.body.find("only the probes"), std::string::npos) << path;
  }
  EXPECT_EQ(http_call(srv->port(), "POST", "/admin/backup?dest=/x").status,
            404);
  std::lock_guard guard{mtx};
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(server_test, admin_paths_refuse_browser_requests) {
  start();
  auto out = raw("POST /admin/backup?dest=/b HTTP/1.1\r\nHost: x\r\n"
                 "Origin: http://localhost:3000\r\nContent-Length: 0\r\n"
                 "Connection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 403", 0), 0U) << out;
  EXPECT_NE(out.find("Origin"), std::string::npos) << out;
  std::lock_guard guard{mtx};
  EXPECT_TRUE(seen.empty());
}

TEST_F(server_test, the_mcp_endpoint_takes_post_with_its_headers_and_body) {
  start();
  auto res = http_call(srv->port(), "POST", "/mcp",
                       {{"Content-Type", "application/json"},
                        {"Mcp-Method", "tools/list"},
                        {"Origin", "http://localhost"}},
                       R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  EXPECT_EQ(res.status, 200);
  {
    std::lock_guard guard{mtx};
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].path, "/mcp");
    EXPECT_EQ(seen[0].body,
              R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
    EXPECT_EQ(seen[0].headers["mcp-method"], "tools/list");
    EXPECT_EQ(seen[0].headers["origin"], "http://localhost");
    EXPECT_EQ(seen[0].headers["content-type"], "application/json");
  }
  for (auto method : {"GET", "DELETE", "PUT"}) {
    res = http_call(srv->port(), method, "/mcp");
    EXPECT_EQ(res.status, 405) << method;
    EXPECT_EQ(res.headers["Allow"], "POST") << method;
  }
  std::lock_guard guard{mtx};
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(server_test, mcp_bodies_may_reach_one_mib_and_no_other_body_grows) {
  start();
  std::string big(size_t{900} * 1024, ' ');
  big += R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  EXPECT_EQ(http_call(srv->port(), "POST", "/mcp", {}, big).status, 200);
  // Larger bodies are refused on their Content-Length, before they are read
  // (only the heads are sent here, so no write races the early answer).
  auto head = [](const std::string& target, size_t length) {
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: "
      + std::to_string(length) + "\r\n\r\n";
  };
  auto out = raw(head("/mcp", size_t{1} << 21U));
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  // The admin endpoint keeps the small limit.
  out = raw(head("/admin/backup?dest=/x", size_t{20} * 1024));
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  std::lock_guard guard{mtx};
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(server_test, oversized_heads_are_431) {
  start();
  auto res = http_call(srv->port(), "GET", "/health",
                       {{"X-Filler", std::string(size_t{17} * 1024, 'a')}});
  EXPECT_EQ(res.status, 431);
  EXPECT_EQ(res.body, R"({"error":"request head too large"})");
  auto long_target = "/api/v1/events?resourceName=" + std::string(20000, 'b');
  EXPECT_EQ(http_get(srv->port(), long_target).status, 431);
}

TEST_F(server_test, malformed_escapes_are_400_naming_the_parameter) {
  start();
  auto res = http_get(srv->port(), "/api/v1/events?namespace=%zz");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body,
            R"({"error":"the value has a malformed percent )"
            R"(escape","parameter":"namespace"})");
  res = http_get(srv->port(), "/api/v1/events?user=%00");
  EXPECT_EQ(res.status, 400);
  res = http_get(srv->port(), "/api/%2");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find(R"("parameter":"path")"), std::string::npos)
    << res.body;
}

TEST_F(server_test, garbage_is_400_and_the_server_keeps_serving) {
  start();
  auto out = raw("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_NE(out.find("400"), std::string::npos) << out;
  EXPECT_EQ(http_get(srv->port(), "/ok").status, 200);
}

TEST_F(server_test, unanswered_requests_time_out_with_504) {
  server_options opts;
  opts.handler_timeout = std::chrono::milliseconds{50};
  start(opts);
  auto res = http_get(srv->port(), "/slow");
  EXPECT_EQ(res.status, 504);
  EXPECT_EQ(res.body, R"({"error":"the request timed out"})");
}

TEST_F(server_test, connections_beyond_the_limit_get_503) {
  server_options opts;
  opts.max_connections = 1;
  start(opts);
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket held{ioc};
  held.connect({boost::asio::ip::make_address("127.0.0.1"), srv->port()});
  // Half a request: not idle, so it never gives way to a new connection.
  boost::asio::write(held, boost::asio::buffer(std::string{"GET /x HTT"}));
  for (int i = 0; i < 1000; ++i) {
    auto now = srv->connections();
    if (now.full == 1 && now.idle == 0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  ASSERT_EQ(srv->connections().idle, 0U);
  // The busy connection holds the only slot until it closes; a second
  // client is turned away instead of queueing without bound.
  EXPECT_EQ(http_get(srv->port(), "/x").status, 503);
  held.close();
  int status = 503;
  for (int i = 0; i < 1000 && status != 200; ++i)
    status = http_get(srv->port(), "/x").status;
  EXPECT_EQ(status, 200);
}

TEST_F(server_test, a_taken_port_is_a_clear_error) {
  start();
  server_options opts;
  opts.address = "127.0.0.1";
  opts.port = srv->port();
  auto second = server::start(opts, [](http_request, responder_ptr) {});
  ASSERT_FALSE(second);
  EXPECT_NE(render(second.error()).find(std::to_string(srv->port())),
            std::string::npos);
}

TEST(routes_test, matches_the_contract_paths) {
  EXPECT_EQ(match_route("/health").which, route::health);
  EXPECT_EQ(match_route("/readyz").which, route::readyz);
  EXPECT_EQ(match_route("/livez").which, route::livez);
  EXPECT_EQ(match_route("/metrics").which, route::metrics);
  EXPECT_EQ(match_route("/api/v1/events").which, route::events);
  EXPECT_EQ(match_route("/api/v1/events/").which, route::events);
  auto m = match_route("/api/v1/events/default/pods/web-1");
  EXPECT_EQ(m.which, route::object_history);
  EXPECT_EQ(m.ns, "default");
  EXPECT_EQ(m.resource_type, "pods");
  EXPECT_EQ(m.name, "web-1");
  m = match_route("/api/v1/events/_cluster/nodes/node-1");
  EXPECT_EQ(m.which, route::object_history);
  EXPECT_EQ(m.ns, "");
  EXPECT_EQ(match_route("/api/v1/events/a/b").which, route::unknown);
  EXPECT_EQ(match_route("/api/v1/events/a/b/c/d").which, route::unknown);
  EXPECT_EQ(match_route("/api/v2/events").which, route::unknown);
  EXPECT_EQ(match_route("/").which, route::unknown);
}

TEST(url_test, decodes_percent_escapes_and_plus) {
  EXPECT_EQ(*percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(*percent_decode("a+b", false), "a+b");
  EXPECT_EQ(*percent_decode("%E2%9C%93", false), "\xE2\x9C\x93");
  EXPECT_FALSE(percent_decode("%", false));
  EXPECT_FALSE(percent_decode("%4", false));
  EXPECT_FALSE(percent_decode("%g0", false));
  EXPECT_FALSE(percent_decode("%00", false));
}

TEST(url_test, splits_targets_keeping_parameter_order) {
  http_request req;
  ASSERT_FALSE(parse_target("/p?b=2&a=1&&flag&b=3", req));
  EXPECT_EQ(req.path, "/p");
  EXPECT_EQ(req.query_names, (std::vector<std::string>{"b", "a", "flag", "b"}));
  EXPECT_EQ(req.query_values, (std::vector<std::string>{"2", "1", "", "3"}));
}

TEST(url_test, a_path_must_start_with_a_slash) {
  for (const char* bad :
       {"api/v1/events", "api/v1/events?limit=1", "", "*", "?limit=1"}) {
    http_request req;
    auto err = parse_target(bad, req);
    ASSERT_TRUE(err) << bad;
    EXPECT_NE(error_detail(err).find("must start with '/'"), std::string::npos)
      << error_detail(err);
  }
}

TEST(url_test, an_escaped_slash_stays_inside_its_segment) {
  http_request req;
  ASSERT_FALSE(parse_target("/api/v1/events/default/pods/a%2fb", req));
  EXPECT_EQ(req.path, "/api/v1/events/default/pods/a%2Fb");
  auto r = match_route(req.path);
  EXPECT_EQ(r.which, route::object_history);
  EXPECT_EQ(r.name, "a/b");
  // Not the diff of pods/web: the client sent six segments.
  ASSERT_FALSE(parse_target("/api/v1/events/default/pods%2Fweb/diff", req));
  r = match_route(req.path);
  EXPECT_EQ(r.which, route::object_history);
  EXPECT_EQ(r.resource_type, "pods/web");
  EXPECT_EQ(r.name, "diff");
  ASSERT_FALSE(parse_target("/api/v1/events%2F", req));
  EXPECT_EQ(match_route(req.path).which, route::unknown);
  // An escaped '%' is decoded once, never twice.
  ASSERT_FALSE(parse_target("/api/v1/records/a%252Fb", req));
  r = match_route(req.path);
  EXPECT_EQ(r.which, route::record);
  EXPECT_EQ(r.id, "a%2Fb");
  EXPECT_EQ(path_segments("/a%25b/c%2Fd"),
            (std::vector<std::string>{"a%b", "c/d"}));
}

/// A server whose access log goes into a vector; /readyz answers
/// `readyz_status`, /slow never.
struct access_log_server_test : server_test {
  std::vector<access_entry> logged;
  std::atomic<uint16_t> readyz_status{200};

  // The server's threads write into `logged`, so they stop before it goes.
  void TearDown() override {
    if (srv)
      srv->stop();
  }

  void start_logged(server_options opts = {}) {
    opts.address = "127.0.0.1";
    opts.port = 0;
    opts.on_access = [this](const access_entry& e) {
      std::lock_guard guard{mtx};
      logged.push_back(e);
    };
    auto s = server::start(opts, [this](http_request req, responder_ptr rp) {
      if (req.path == "/slow")
        return;
      http_response res;
      if (req.path == "/readyz")
        res.status = readyz_status;
      res.body = R"({"path":")" + req.path + "\"}";
      rp->deliver(std::move(res));
    });
    ASSERT_TRUE(s) << render(s.error());
    srv = std::move(*s);
  }

  /// The entries once there are `n` (the callback runs after the client may
  /// have read the response); fails the test after 5 s.
  std::vector<access_entry> wait_for(size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard guard{mtx};
        if (logged.size() >= n)
          return logged;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    std::lock_guard guard{mtx};
    ADD_FAILURE() << "expected " << n << " access entries, got "
                  << logged.size();
    return logged;
  }
};

TEST_F(access_log_server_test, logs_each_request_once_with_its_duration) {
  start_logged();
  auto before = std::chrono::system_clock::now();
  auto target = std::string{"/api/v1/events?namespace=kube%2Dsystem&limit=5"};
  auto res = http_get(srv->port(), target);
  ASSERT_EQ(res.status, 200);
  auto entries = wait_for(1);
  ASSERT_EQ(entries.size(), 1u);
  const auto& e = entries[0];
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.target, target);
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.bytes, res.body.size());
  EXPECT_GT(e.duration.count(), 0);
  EXPECT_LT(e.duration, std::chrono::seconds{5});
  EXPECT_EQ(e.remote, "127.0.0.1");
  EXPECT_TRUE(e.caller.empty());
  auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 before.time_since_epoch())
                 .count();
  EXPECT_GE(e.time_ns, since - 1'000'000'000);
  EXPECT_LE(e.time_ns, since + 60'000'000'000);
  res = http_call(srv->port(), "HEAD", "/x");
  ASSERT_EQ(res.status, 200);
  entries = wait_for(2);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].method, "HEAD");
  EXPECT_EQ(entries[1].bytes, 0u); // no body written
}

TEST_F(access_log_server_test, probes_are_logged_only_when_they_fail) {
  start_logged();
  EXPECT_EQ(http_get(srv->port(), "/readyz").status, 200);
  EXPECT_EQ(http_get(srv->port(), "/health").status, 200);
  EXPECT_EQ(http_get(srv->port(), "/livez").status, 200);
  readyz_status = 503;
  EXPECT_EQ(http_get(srv->port(), "/readyz").status, 503);
  EXPECT_EQ(http_get(srv->port(), "/after").status, 200);
  wait_for(2);
  std::this_thread::sleep_for(std::chrono::milliseconds{50});
  std::lock_guard guard{mtx};
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0].target, "/readyz");
  EXPECT_EQ(logged[0].status, 503);
  EXPECT_EQ(logged[1].target, "/after");
}

TEST_F(access_log_server_test, answers_the_server_gives_itself_are_logged) {
  server_options opts;
  opts.handler_timeout = std::chrono::milliseconds{50};
  start_logged(opts);
  EXPECT_EQ(http_call(srv->port(), "GET", "/health",
                      {{"X-Filler", std::string(size_t{17} * 1024, 'a')}})
              .status,
            431);
  EXPECT_NE(raw("NOT HTTP AT ALL\r\n\r\n").find("400"), std::string::npos);
  EXPECT_EQ(http_call(srv->port(), "DELETE", "/health").status, 405);
  EXPECT_EQ(http_get(srv->port(), "/api/%2").status, 400);
  EXPECT_EQ(http_get(srv->port(), "/slow?x=1").status, 504);
  auto entries = wait_for(5);
  ASSERT_EQ(entries.size(), 5u);
  std::map<uint16_t, access_entry> by_status;
  for (auto& e : entries)
    by_status[e.status] = e;
  ASSERT_EQ(by_status.size(), 4u);
  EXPECT_TRUE(by_status[431].target.empty()); // the head never parsed
  EXPECT_EQ(by_status[405].method, "DELETE");
  EXPECT_EQ(by_status[405].target, "/health");
  EXPECT_EQ(by_status[504].target, "/slow?x=1");
  EXPECT_GE(by_status[504].duration, std::chrono::milliseconds{50});
  EXPECT_EQ(by_status[504].bytes,
            std::string_view{R"({"error":"the request timed out"})"}.size());
}

TEST_F(access_log_server_test, an_error_after_a_head_request_has_its_body) {
  start_logged();
  auto out = raw("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP\r\n\r\n");
  EXPECT_NE(out.find("malformed HTTP request"), std::string::npos) << out;
  auto entries = wait_for(2);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].status, 400);
  EXPECT_GT(entries[1].bytes, 0u);
}

} // namespace
} // namespace kws::rest
