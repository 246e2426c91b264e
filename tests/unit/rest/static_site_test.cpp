// The page's files, answered by the server itself: the pure answer and the
// same through the real HTTP server (conditional GET, HEAD, methods).
#include "rest/static_site.hpp"

#include "rest/server.hpp"
#include "tests/support/http_client.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>

#include <array>

namespace kws::rest {
namespace {

using test::http_call;
using test::http_get;

const std::array<static_asset, 2> site{{
  {"index.html", "text/html; charset=utf-8", "<!doctype html><p>page</p>",
   "\"aaaa\""},
  {"app.js", "text/javascript; charset=utf-8", "console.log(1)", "\"bbbb\""},
}};

TEST(static_site_test, the_page_is_at_the_root_and_under_ui) {
  for (const char* path : {"/", "/ui", "/ui/", "/ui/index.html"}) {
    auto res = answer_site(site, path, "");
    EXPECT_EQ(res.status, 200) << path;
    EXPECT_EQ(res.content_type, "text/html; charset=utf-8") << path;
    EXPECT_EQ(res.body, "<!doctype html><p>page</p>") << path;
    EXPECT_EQ(res.headers["ETag"], "\"aaaa\"") << path;
    EXPECT_EQ(res.headers["Cache-Control"], "no-cache") << path;
    EXPECT_TRUE(
      res.headers["Content-Security-Policy"].starts_with("default-src 'self'"))
      << path;
  }
  EXPECT_TRUE(is_site_path("/"));
  EXPECT_TRUE(is_site_path("/ui/app.js"));
  EXPECT_FALSE(is_site_path("/uix"));
  EXPECT_FALSE(is_site_path("/api/v1/events"));
}

TEST(static_site_test, an_asset_has_its_type_and_an_unknown_one_is_a_404) {
  auto js = answer_site(site, "/ui/app.js", "");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.headers["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(js.headers.count("Content-Security-Policy"), 0u);
  auto missing = answer_site(site, "/ui/missing.js", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("/ui/missing.js"), std::string::npos);
  EXPECT_EQ(answer_site(site, "/ui/../app.js", "").status, 404);
}

TEST(static_site_test, a_known_etag_answers_304_without_a_body) {
  for (const char* tag :
       {"\"bbbb\"", "W/\"bbbb\"", "\"zzzz\", \"bbbb\"", "*"}) {
    auto res = answer_site(site, "/ui/app.js", tag);
    EXPECT_EQ(res.status, 304) << tag;
    EXPECT_TRUE(res.body.empty()) << tag;
    EXPECT_EQ(res.headers["ETag"], "\"bbbb\"") << tag;
  }
  EXPECT_EQ(answer_site(site, "/ui/app.js", "\"aaaa\"").status, 200);
}

struct static_site_server_test : ::testing::Test {
  std::unique_ptr<server> srv;
  int handled = 0;

  void start(static_site s) {
    server_options opts;
    opts.address = "127.0.0.1";
    opts.port = 0;
    opts.site = s;
    auto started = server::start(opts, [this](http_request, responder_ptr rp) {
      ++handled;
      rp->deliver(error_response(404, "not found"));
    });
    ASSERT_TRUE(started) << render(started.error());
    srv = std::move(*started);
  }
};

TEST_F(static_site_server_test, serves_the_page_without_asking_the_handler) {
  start(site);
  auto page = http_get(srv->port(), "/?namespace=shop&window=1h");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.headers["Content-Type"], "text/html; charset=utf-8");
  EXPECT_EQ(page.body, "<!doctype html><p>page</p>");
  auto again = http_call(srv->port(), "GET", "/ui/app.js",
                         {{"If-None-Match", "\"bbbb\""}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  auto head = http_call(srv->port(), "HEAD", "/ui/app.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["Content-Length"], "14");
  auto post = http_call(srv->port(), "POST", "/ui/app.js", {}, "x");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["Allow"], "GET, HEAD");
  EXPECT_EQ(handled, 0);
  EXPECT_EQ(http_get(srv->port(), "/api/v1/events").status, 404);
  EXPECT_EQ(handled, 1);
}

TEST_F(static_site_server_test, without_a_page_the_root_goes_to_the_handler) {
  start({});
  EXPECT_EQ(http_get(srv->port(), "/").status, 404);
  EXPECT_EQ(handled, 1);
}

} // namespace
} // namespace kws::rest
