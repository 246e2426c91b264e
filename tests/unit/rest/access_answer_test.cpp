#include "rest/access_answer.hpp"

#include "util/errors.hpp"

#include <gtest/gtest.h>

using namespace kws;
using namespace kws::rest;

namespace {

http_request with_authorization(std::string value) {
  http_request req;
  req.headers["authorization"] = std::move(value);
  return req;
}

} // namespace

TEST(access_answer, bearer_tokens) {
  EXPECT_EQ(bearer_token(with_authorization("Bearer abc.def")), "abc.def");
  EXPECT_EQ(bearer_token(with_authorization("bearer  abc ")), "abc");
  for (const char* bad :
       {"", "Bearer", "Bearer ", "Basic dXNlcg==", "Bearer a b", "Bearerabc"}) {
    auto t = bearer_token(with_authorization(bad));
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error(), ec::unauthenticated) << bad;
  }
  EXPECT_FALSE(bearer_token(http_request{}));
}

TEST(access_answer, who_asks_is_the_proxied_caller_else_the_token) {
  auto by_token = access_of(with_authorization("Bearer abc"));
  ASSERT_TRUE(by_token);
  EXPECT_EQ(by_token->token, "abc");
  EXPECT_EQ(by_token->proxied.user, "");
  // In proxy mode a token is not what counts: the proxy's word is.
  auto req = with_authorization("Bearer abc");
  req.proxied.user = "alice";
  req.proxied.groups = {"dev"};
  auto by_proxy = access_of(req);
  ASSERT_TRUE(by_proxy);
  EXPECT_EQ(by_proxy->token, "");
  EXPECT_EQ(by_proxy->proxied.user, "alice");
  EXPECT_EQ(by_proxy->proxied.groups, std::vector<std::string>{"dev"});
  req.proxied = {};
  req.proxy_refusal = "auth.mode proxy: no certificate";
  auto refused = access_of(req);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), ec::unauthenticated);
  EXPECT_NE(error_detail(refused.error()).find("no certificate"),
            std::string::npos);
  EXPECT_FALSE(access_of(http_request{}));
}

TEST(access_answer, refusals_name_the_permission) {
  access_grant g;
  g.who.user = "system:serviceaccount:a:reader";
  g.filter.everything = false;
  g.filter.namespace_types = {"a/pods"};
  g.denied_types = {"secrets"};
  EXPECT_FALSE(refusal(g, "a", "pods"));
  EXPECT_FALSE(refusal(g, "a", ""));
  auto err = refusal(g, "a", "secrets");
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::forbidden);
  EXPECT_EQ(
    error_detail(err),
    "system:serviceaccount:a:reader may not get secrets in namespace a");
  g.filter.namespace_types.clear();
  err = refusal(g, "", "");
  ASSERT_TRUE(err);
  EXPECT_EQ(error_detail(err),
            "system:serviceaccount:a:reader may get none "
            "of the recorded resource types in any "
            "namespace");
}

TEST(access_answer, filtered_headers) {
  access_grant g;
  http_response res;
  mark_filtered(res, g);
  EXPECT_TRUE(res.headers.empty());
  g.denied_types = {"nodes", "secrets"};
  g.partial_namespaces = {"b", "c"};
  mark_filtered(res, g);
  EXPECT_EQ(res.headers["X-Filtered-Resources"], "nodes,secrets");
  EXPECT_EQ(res.headers["X-Filtered-Namespaces"], "b,c");
  g.partial_namespaces.clear();
  for (int i = 0; i < 52; ++i)
    g.partial_namespaces.push_back("n" + std::to_string(i));
  mark_filtered(res, g);
  EXPECT_TRUE(res.headers["X-Filtered-Namespaces"].ends_with(",n49,+2 more"));
}
