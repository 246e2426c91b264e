// `auth.mode: proxy`: which request headers name the caller, and when they
// are believed. The TLS half (the certificate behind the name) is in
// server_proxy_test.
#include "rest/proxy_identity.hpp"

#include "util/errors.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace kws::rest {
namespace {

namespace http = boost::beast::http;

http::request<http::string_body>
request_with(const std::vector<std::pair<std::string, std::string>>& fields) {
  http::request<http::string_body> req{http::verb::get, "/api/v1/events", 11};
  for (const auto& [name, value] : fields)
    req.insert(name, value);
  return req;
}

std::string refusal(const caf::expected<caller>& who) {
  EXPECT_FALSE(who) << "believed " << (who ? who->user : "");
  if (who)
    return {};
  EXPECT_EQ(who.error(), ec::unauthenticated);
  return error_detail(who.error());
}

TEST(proxy_identity_test, the_proxy_names_user_groups_and_extras) {
  auto req = request_with({{"x-remote-user", "alice"},
                           {"X-Remote-Group", "dev"},
                           {"X-REMOTE-GROUP", "system:authenticated"},
                           {"X-Remote-Extra-Scopes", "openid"},
                           {"X-Remote-Extra-scopes", "email"},
                           {"X-Remote-Extra-Acme.com%2Fproject", "p1"},
                           {"Authorization", "Bearer ignored"}});
  auto who = proxied_caller(req, "front-proxy", proxy_trust{});
  ASSERT_TRUE(who) << error_detail(who.error());
  EXPECT_EQ(who->user, "alice");
  EXPECT_EQ(who->groups,
            (std::vector<std::string>{"dev", "system:authenticated"}));
  // Keys in lower case and percent-decoded, as the apiserver reads them.
  EXPECT_EQ(who->extra_json,
            R"({"acme.com/project":["p1"],"scopes":["openid","email"]})");
}

TEST(proxy_identity_test, the_first_username_header_that_is_present_wins) {
  proxy_trust trust;
  trust.username_headers = {"X-Forwarded-User", "X-Remote-User"};
  auto who = proxied_caller(
    request_with({{"X-Remote-User", "bob"}, {"X-Forwarded-User", "carol"}}),
    "front-proxy", trust);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->user, "carol");
  who = proxied_caller(request_with({{"X-Remote-User", "bob"}}), "front-proxy",
                       trust);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->user, "bob");
  EXPECT_TRUE(who->groups.empty());
  EXPECT_EQ(who->extra_json, "");
}

TEST(proxy_identity_test,
     headers_are_not_believed_without_a_proxy_certificate) {
  auto req = request_with(
    {{"X-Remote-User", "system:admin"}, {"X-Remote-Group", "system:masters"}});
  EXPECT_NE(refusal(proxied_caller(req, "", proxy_trust{}))
              .find("must come through the front proxy"),
            std::string::npos);
  proxy_trust trust;
  trust.allowed_names = {"front-proxy"};
  EXPECT_NE(refusal(proxied_caller(req, "someone-else", trust))
              .find("'someone-else' is not one of auth.proxy.allowedNames"),
            std::string::npos);
  auto who = proxied_caller(req, "front-proxy", trust);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->user, "system:admin");
}

TEST(proxy_identity_test, a_proxy_that_names_no_user_is_refused) {
  EXPECT_NE(refusal(proxied_caller(request_with({{"X-Remote-Group", "dev"}}),
                                   "front-proxy", proxy_trust{}))
              .find("named no user (X-Remote-User)"),
            std::string::npos);
  EXPECT_NE(refusal(proxied_caller(request_with({{"X-Remote-User", ""}}),
                                   "front-proxy", proxy_trust{}))
              .find("named no user"),
            std::string::npos);
  EXPECT_NE(refusal(proxied_caller(request_with({{"X-Remote-User", "a"},
                                                 {"X-Remote-Extra-%zz", "v"}}),
                                   "front-proxy", proxy_trust{}))
              .find("names no extra attribute"),
            std::string::npos);
}

} // namespace
} // namespace kws::rest
