#include "kube/access_review.hpp"

#include "kube/ttl_cache.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <tuple>

using namespace kws;
using namespace kws::kube;
using json = nlohmann::json;

namespace {

resource_type type(std::string group, std::string plural,
                   bool namespaced = true) {
  return resource_type{std::move(group), "v1", "", std::move(plural),
                       namespaced};
}

/// Answers of the authorizer by (namespace, group, resource); a key not
/// listed is unknown.
struct authorizer {
  std::map<std::tuple<std::string, std::string, std::string>, bool> answers;

  review_lookup lookup() const {
    return [this](const review_key& k) -> std::optional<bool> {
      auto it = answers.find({k.ns, k.group, k.resource});
      if (it == answers.end())
        return std::nullopt;
      return it->second;
    };
  }
};

std::vector<std::string> keys(const std::vector<review_key>& missing) {
  std::vector<std::string> out;
  for (const auto& k : missing)
    out.push_back(k.ns + "|" + k.group + "|" + k.resource);
  return out;
}

} // namespace

TEST(access_review, token_review_round_trip) {
  auto body = json::parse(token_review_body("abc\"d", {"kws"}));
  EXPECT_EQ(body["kind"], "TokenReview");
  EXPECT_EQ(body["spec"]["token"], "abc\"d");
  EXPECT_EQ(body["spec"]["audiences"], json::array({"kws"}));
  EXPECT_FALSE(
    json::parse(token_review_body("t", {}))["spec"].contains("audiences"));

  auto who = parse_token_review(R"({"status":{"authenticated":true,"user":{
    "username":"system:serviceaccount:a:reader","uid":"u-1",
    "groups":["system:serviceaccounts","system:authenticated"],
    "extra":{"authentication.kubernetes.io/pod-name":["p"]}}}})");
  ASSERT_TRUE(who) << render(who.error());
  EXPECT_EQ(who->user, "system:serviceaccount:a:reader");
  EXPECT_EQ(who->uid, "u-1");
  EXPECT_EQ(who->groups.size(), 2u);
  EXPECT_EQ(json::parse(who->extra_json),
            json::parse(R"({"authentication.kubernetes.io/pod-name":["p"]})"));
}

TEST(access_review, invalid_and_malformed_token_reviews) {
  auto invalid = parse_token_review(
    R"({"status":{"authenticated":false,"error":"token expired"}})");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error(), ec::unauthenticated);
  EXPECT_NE(render(invalid.error()).find("token expired"), std::string::npos);
  for (const char* bad :
       {"", "[]", R"({"status":1})", R"({"status":{"authenticated":true}})",
        R"({"status":{"authenticated":true,"user":{}}})"}) {
    auto r = parse_token_review(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), ec::parse_error) << bad;
  }
}

TEST(access_review, subject_access_review_carries_the_caller) {
  caller who{
    "alice", "u-2", {"dev", "system:authenticated"}, R"({"scopes":["x"]})"};
  auto body
    = json::parse(access_review_body(who, {"shop", "apps", "deployments"}));
  EXPECT_EQ(body["kind"], "SubjectAccessReview");
  const auto& spec = body["spec"];
  EXPECT_EQ(spec["user"], "alice");
  EXPECT_EQ(spec["uid"], "u-2");
  EXPECT_EQ(spec["groups"], json::array({"dev", "system:authenticated"}));
  EXPECT_EQ(spec["extra"]["scopes"], json::array({"x"}));
  EXPECT_EQ(spec["resourceAttributes"],
            json::parse(R"({"namespace":"shop","verb":"get","group":"apps",
                            "resource":"deployments"})"));
  // Cluster-wide: no namespace at all, not an empty one.
  auto cluster = json::parse(access_review_body(who, {"", "", "nodes"}));
  EXPECT_FALSE(cluster["spec"]["resourceAttributes"].contains("namespace"));
}

TEST(access_review, access_review_answers) {
  EXPECT_EQ(parse_access_review(R"({"status":{"allowed":true}})"), true);
  EXPECT_EQ(parse_access_review(R"({"status":{"allowed":false}})"), false);
  EXPECT_EQ(parse_access_review(R"({"status":{}})"), false);
  EXPECT_EQ(parse_access_review(R"({"status":{"allowed":true,"denied":true}})"),
            false);
  EXPECT_FALSE(parse_access_review(R"({"kind":"Status"})"));
  auto names = parse_namespace_names(
    R"({"items":[{"metadata":{"name":"b"}},{"metadata":{"name":"a"}},{}]})");
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(parse_namespace_names(R"({"items":3})"));
}

TEST(access_plan, one_namespace_asks_there_and_skips_cluster_scoped_types) {
  access_request req{
    "t",
    "shop",
    {type("", "pods"), type("", "nodes", false), type("", "secrets")}};
  authorizer az;
  auto plan = plan_access(req, az.lookup(), nullptr);
  EXPECT_FALSE(plan.grant);
  EXPECT_EQ(keys(plan.missing),
            (std::vector<std::string>{"shop||pods", "shop||secrets"}));
  az.answers[{"shop", "", "pods"}] = true;
  az.answers[{"shop", "", "secrets"}] = false;
  plan = plan_access(req, az.lookup(), nullptr);
  ASSERT_TRUE(plan.grant);
  const auto& f = plan.grant->filter;
  EXPECT_FALSE(f.everything);
  EXPECT_EQ(f.namespace_types, (std::vector<std::string>{"shop/pods"}));
  EXPECT_EQ(plan.grant->denied_types, (std::vector<std::string>{"secrets"}));
  EXPECT_TRUE(allows(f, "shop", "pods", ""));
  EXPECT_FALSE(allows(f, "shop", "secrets", ""));
  EXPECT_FALSE(allows(f, "other", "pods", ""));
}

TEST(access_plan, every_namespace_narrows_types_denied_cluster_wide) {
  access_request req{
    "t",
    "",
    {type("apps", "deployments"), type("", "pods"), type("", "nodes", false)}};
  authorizer az;
  auto plan = plan_access(req, az.lookup(), nullptr);
  EXPECT_EQ(
    keys(plan.missing),
    (std::vector<std::string>{"|apps|deployments", "||nodes", "||pods"}));
  az.answers[{"", "apps", "deployments"}] = true;
  az.answers[{"", "", "pods"}] = false;
  az.answers[{"", "", "nodes"}] = false;
  plan = plan_access(req, az.lookup(), nullptr);
  EXPECT_TRUE(plan.needs_namespaces);
  EXPECT_FALSE(plan.grant);
  std::vector<std::string> namespaces{"a", "b"};
  plan = plan_access(req, az.lookup(), &namespaces);
  EXPECT_EQ(keys(plan.missing),
            (std::vector<std::string>{"a||pods", "b||pods"}));
  az.answers[{"a", "", "pods"}] = true;
  az.answers[{"b", "", "pods"}] = false;
  plan = plan_access(req, az.lookup(), &namespaces);
  ASSERT_TRUE(plan.grant);
  const auto& g = *plan.grant;
  EXPECT_EQ(g.filter.cluster_types,
            (std::vector<std::string>{"deployments.apps"}));
  EXPECT_EQ(g.filter.namespace_types, (std::vector<std::string>{"a/pods"}));
  EXPECT_EQ(g.denied_types, (std::vector<std::string>{"nodes"}));
  EXPECT_EQ(g.partial_namespaces, (std::vector<std::string>{"b"}));
  EXPECT_TRUE(allows(g.filter, "b", "deployments", "apps"));
  EXPECT_TRUE(allows(g.filter, "a", "pods", ""));
  EXPECT_FALSE(allows(g.filter, "b", "pods", ""));
  EXPECT_FALSE(allows(g.filter, "", "nodes", ""));
}

TEST(access_plan, denied_is_denied_without_per_namespace) {
  access_request req{"t", "", {type("", "pods")}, false};
  authorizer az;
  az.answers[{"", "", "pods"}] = false;
  auto plan = plan_access(req, az.lookup(), nullptr);
  ASSERT_TRUE(plan.grant);
  EXPECT_EQ(plan.grant->denied_types, (std::vector<std::string>{"pods"}));
}

TEST(access_plan, all_allowed_and_authentication_only_grant_everything) {
  authorizer az;
  az.answers[{"", "", "pods"}] = true;
  auto plan = plan_access({"t", "", {type("", "pods")}}, az.lookup(), nullptr);
  ASSERT_TRUE(plan.grant);
  EXPECT_TRUE(plan.grant->filter.everything);
  EXPECT_TRUE(plan.grant->filter.cluster_types.empty());
  plan = plan_access({"t", "", {}}, az.lookup(), nullptr);
  ASSERT_TRUE(plan.grant);
  EXPECT_TRUE(plan.grant->filter.everything);
}

TEST(ttl_cache, entries_expire_and_a_full_cache_makes_room) {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::time_point{} + std::chrono::hours{1};
  ttl_cache<int> cache{2};
  cache.put("a", 1, t0 + std::chrono::seconds{10}, t0);
  ASSERT_NE(cache.find("a", t0), nullptr);
  EXPECT_EQ(*cache.find("a", t0 + std::chrono::seconds{9}), 1);
  EXPECT_EQ(cache.find("a", t0 + std::chrono::seconds{10}), nullptr);
  cache.put("b", 2, t0 + std::chrono::seconds{1}, t0);
  // Full: "b" expired by then and goes first, "a" stays.
  cache.put("c", 3, t0 + std::chrono::seconds{10},
            t0 + std::chrono::seconds{2});
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.find("a", t0 + std::chrono::seconds{2}), nullptr);
  EXPECT_NE(cache.find("c", t0 + std::chrono::seconds{2}), nullptr);
  // Full of live entries: everything goes.
  cache.put("d", 4, t0 + std::chrono::seconds{10},
            t0 + std::chrono::seconds{2});
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_NE(cache.find("d", t0 + std::chrono::seconds{2}), nullptr);
}
