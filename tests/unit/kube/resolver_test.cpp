#include "kube/resolver.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

using namespace kws::kube;

namespace {

struct resolver_test : ::testing::Test {
  resolver_test() : resolver(load()) {}

  static std::vector<api_resource_info> load() {
    std::vector<api_resource_info> all;
    for (const char* name :
         {"aggregated_api_v2.json", "aggregated_apis_v2.json",
          "aggregated_apis_v2beta1.json"}) {
      auto infos = parse_aggregated_discovery(test::fixture(name));
      EXPECT_TRUE(infos);
      if (infos)
        all.insert(all.end(), infos->begin(), infos->end());
    }
    return all;
  }

  std::string resolve(std::string_view name) {
    auto t = resolver.resolve(name);
    if (!t)
      return "error: " + kws::render(t.error());
    return t->group_resource() + "@" + t->version;
  }

  resource_resolver resolver;
};

} // namespace

TEST_F(resolver_test, plural_singular_short_and_kind) {
  EXPECT_EQ(resolve("pods"), "pods@v1");
  EXPECT_EQ(resolve("pod"), "pods@v1");
  EXPECT_EQ(resolve("po"), "pods@v1");
  EXPECT_EQ(resolve("Pod"), "pods@v1");
  EXPECT_EQ(resolve("POD"), "pods@v1");
  EXPECT_EQ(resolve("deploy"), "deployments.apps@v1");
  EXPECT_EQ(resolve("Deployment"), "deployments.apps@v1");
  EXPECT_EQ(resolve("hpa"), "horizontalpodautoscalers.autoscaling@v2");
  EXPECT_EQ(resolve("ct"), "crontabs.stable.example.com@v2");
  EXPECT_EQ(resolve("crd"),
            "customresourcedefinitions.apiextensions.k8s.io@v1");
}

TEST_F(resolver_test, qualified_names) {
  EXPECT_EQ(resolve("deployments.apps"), "deployments.apps@v1");
  EXPECT_EQ(resolve("deployment.apps"), "deployments.apps@v1");
  EXPECT_EQ(resolve("crontabs.stable.example.com"),
            "crontabs.stable.example.com@v2");
  EXPECT_EQ(resolve("crontabs.v1beta1.stable.example.com"),
            "crontabs.stable.example.com@v1beta1");
  EXPECT_EQ(resolve("horizontalpodautoscalers.v1.autoscaling"),
            "horizontalpodautoscalers.autoscaling@v1");
  EXPECT_EQ(resolve("events.events.k8s.io"), "events.events.k8s.io@v1");
}

TEST_F(resolver_test, ambiguous_names_prefer_the_core_group) {
  EXPECT_EQ(resolve("events"), "events@v1");
  EXPECT_EQ(resolve("ev"), "events@v1");
  EXPECT_EQ(resolve("pods.metrics.k8s.io"), "pods.metrics.k8s.io@v1beta1");
}

TEST_F(resolver_test, unknown_names_are_not_found) {
  auto t = resolver.resolve("flurbs");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), kws::ec::not_found);
  EXPECT_NE(kws::render(t.error()).find("flurbs"), std::string::npos);
  EXPECT_FALSE(resolver.resolve(""));
  EXPECT_FALSE(resolver.resolve("pods.nosuch.group"));
}

TEST_F(resolver_test, involved_object_kinds) {
  auto kind = [&](std::string_view gv, std::string_view k) {
    auto t = resolver.resolve_kind(gv, k);
    return t ? t->group_resource() + "@" + t->version
             : "error: " + kws::render(t.error());
  };
  EXPECT_EQ(kind("v1", "Pod"), "pods@v1");
  EXPECT_EQ(kind("", "Node"), "nodes@v1");
  EXPECT_EQ(kind("apps/v1", "ReplicaSet"), "replicasets.apps@v1");
  EXPECT_EQ(kind("apps", "Deployment"), "deployments.apps@v1");
  // A non-preferred apiVersion maps to the preferred resource version.
  EXPECT_EQ(kind("autoscaling/v1", "HorizontalPodAutoscaler"),
            "horizontalpodautoscalers.autoscaling@v2");
  EXPECT_EQ(kind("stable.example.com/v1beta1", "crontab"),
            "crontabs.stable.example.com@v2");
  EXPECT_EQ(kind("apps/v1", "Pod").substr(0, 6), "error:");
}

TEST(guess_plural, client_go_heuristic) {
  EXPECT_EQ(guess_plural("Pod"), "pods");
  EXPECT_EQ(guess_plural("Endpoints"), "endpoints");
  EXPECT_EQ(guess_plural("Ingress"), "ingresses");
  EXPECT_EQ(guess_plural("NetworkPolicy"), "networkpolicies");
}
