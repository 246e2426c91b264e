#include "kube/discovery.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace kws::kube;
using kws::resource_type;

namespace {

const api_resource_info* find(const std::vector<api_resource_info>& xs,
                              const std::string& group,
                              const std::string& version,
                              const std::string& plural) {
  for (const auto& x : xs)
    if (x.type.group == group && x.type.version == version
        && x.type.plural == plural)
      return &x;
  return nullptr;
}

bool contains(const std::vector<resource_type>& xs, const std::string& gr) {
  return std::any_of(xs.begin(), xs.end(), [&](const resource_type& t) {
    return t.group_resource() == gr;
  });
}

const resource_type* find_type(const std::vector<resource_type>& xs,
                               const std::string& gr) {
  for (const auto& t : xs)
    if (t.group_resource() == gr)
      return &t;
  return nullptr;
}

} // namespace

TEST(discovery, content_type_decides_the_document_shape) {
  EXPECT_TRUE(is_aggregated_discovery(
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"));
  EXPECT_TRUE(is_aggregated_discovery(
    "application/"
    "json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"));
  EXPECT_FALSE(is_aggregated_discovery("application/json"));
  EXPECT_EQ(
    aggregated_discovery_accept,
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json");
}

TEST(discovery, aggregated_v2_core_group) {
  auto infos
    = parse_aggregated_discovery(test::fixture("aggregated_api_v2.json"));
  ASSERT_TRUE(infos) << kws::render(infos.error());
  auto* pods = find(*infos, "", "v1", "pods");
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ(pods->type.kind, "Pod");
  EXPECT_TRUE(pods->type.namespaced);
  EXPECT_EQ(pods->singular, "pod");
  EXPECT_EQ(pods->short_names, (std::vector<std::string>{"po"}));
  EXPECT_TRUE(pods->preferred);
  EXPECT_TRUE(pods->watchable());
  auto* nodes = find(*infos, "", "v1", "nodes");
  ASSERT_NE(nodes, nullptr);
  EXPECT_FALSE(nodes->type.namespaced);
  // Subresources are not separate resources in aggregated discovery.
  for (const auto& x : *infos)
    EXPECT_EQ(x.type.plural.find('/'), std::string::npos);
  auto* bindings = find(*infos, "", "v1", "bindings");
  ASSERT_NE(bindings, nullptr);
  EXPECT_FALSE(bindings->watchable());
}

TEST(discovery, aggregated_v2_groups_and_preferred_versions) {
  auto infos
    = parse_aggregated_discovery(test::fixture("aggregated_apis_v2.json"));
  ASSERT_TRUE(infos) << kws::render(infos.error());
  auto* deploy = find(*infos, "apps", "v1", "deployments");
  ASSERT_NE(deploy, nullptr);
  EXPECT_EQ(deploy->type.kind, "Deployment");
  EXPECT_EQ(deploy->short_names, (std::vector<std::string>{"deploy"}));
  auto* hpa2 = find(*infos, "autoscaling", "v2", "horizontalpodautoscalers");
  auto* hpa1 = find(*infos, "autoscaling", "v1", "horizontalpodautoscalers");
  ASSERT_NE(hpa2, nullptr);
  ASSERT_NE(hpa1, nullptr);
  EXPECT_TRUE(hpa2->preferred);
  EXPECT_FALSE(hpa1->preferred);
  auto watch = select_watchable(*infos);
  auto* hpa = find_type(watch, "horizontalpodautoscalers.autoscaling");
  ASSERT_NE(hpa, nullptr);
  EXPECT_EQ(hpa->version, "v2");
  EXPECT_FALSE(contains(watch, "tokenreviews.authentication.k8s.io"));
  EXPECT_FALSE(
    contains(watch, "selfsubjectaccessreviews.authorization.k8s.io"));
  EXPECT_TRUE(
    contains(watch, "customresourcedefinitions.apiextensions.k8s.io"));
  // Without core events in the input, events.k8s.io stays.
  EXPECT_TRUE(contains(watch, "events.events.k8s.io"));
}

TEST(discovery, aggregated_v2beta1_crd_versions_stale_groups_and_events) {
  auto infos
    = parse_aggregated_discovery(test::fixture("aggregated_apis_v2beta1.json"));
  ASSERT_TRUE(infos) << kws::render(infos.error());
  auto* v2 = find(*infos, "stable.example.com", "v2", "crontabs");
  ASSERT_NE(v2, nullptr);
  EXPECT_TRUE(v2->preferred);
  EXPECT_EQ(v2->categories, (std::vector<std::string>{"all"}));
  auto* metrics = find(*infos, "metrics.k8s.io", "v1beta1", "pods");
  ASSERT_NE(metrics, nullptr);
  EXPECT_TRUE(metrics->stale);
  auto core
    = parse_aggregated_discovery(test::fixture("aggregated_api_v2.json"));
  ASSERT_TRUE(core);
  auto all = *core;
  all.insert(all.end(), infos->begin(), infos->end());
  auto watch = select_watchable(all);
  auto* crontabs = find_type(watch, "crontabs.stable.example.com");
  ASSERT_NE(crontabs, nullptr);
  EXPECT_EQ(crontabs->version, "v2");
  EXPECT_EQ(crontabs->kind, "CronTab");
  // A resource served only by a non-preferred version is still watched.
  auto* oldtabs = find_type(watch, "oldtabs.stable.example.com");
  ASSERT_NE(oldtabs, nullptr);
  EXPECT_EQ(oldtabs->version, "v1beta1");
  EXPECT_FALSE(oldtabs->namespaced);
  // get/list-only metrics are not watchable; events.k8s.io cohabits with
  // core events and is dropped.
  EXPECT_FALSE(contains(watch, "pods.metrics.k8s.io"));
  EXPECT_FALSE(contains(watch, "events.events.k8s.io"));
  EXPECT_TRUE(contains(watch, "events"));
  EXPECT_EQ(std::count_if(watch.begin(), watch.end(),
                          [](const resource_type& t) {
                            return t.group_resource()
                              == "crontabs.stable.example.com";
                          }),
            1);
}

TEST(discovery, legacy_documents) {
  auto versions = parse_api_versions(test::fixture("legacy_api.json"));
  ASSERT_TRUE(versions);
  EXPECT_EQ(*versions, (std::vector<std::string>{"v1"}));
  auto groups = parse_api_group_list(test::fixture("legacy_apis.json"));
  ASSERT_TRUE(groups) << kws::render(groups.error());
  auto autoscaling
    = std::find_if(groups->begin(), groups->end(),
                   [](const api_group& g) { return g.name == "autoscaling"; });
  ASSERT_NE(autoscaling, groups->end());
  EXPECT_EQ(autoscaling->preferred, "autoscaling/v2");
  EXPECT_EQ(autoscaling->group_versions,
            (std::vector<std::string>{"autoscaling/v2", "autoscaling/v1"}));
  auto core
    = parse_api_resource_list(test::fixture("legacy_api_v1.json"), true);
  ASSERT_TRUE(core) << kws::render(core.error());
  for (const auto& x : *core)
    EXPECT_EQ(x.type.plural.find('/'), std::string::npos) << x.type.plural;
  auto* pods = find(*core, "", "v1", "pods");
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ(pods->type.kind, "Pod");
  EXPECT_TRUE(pods->watchable());
  auto* cs = find(*core, "", "v1", "componentstatuses");
  ASSERT_NE(cs, nullptr);
  EXPECT_FALSE(cs->watchable());
  auto apps
    = parse_api_resource_list(test::fixture("legacy_apis_apps_v1.json"), true);
  ASSERT_TRUE(apps);
  auto* ds = find(*apps, "apps", "v1", "daemonsets");
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(ds->short_names, (std::vector<std::string>{"ds"}));
  EXPECT_TRUE(ds->type.namespaced);
}

TEST(discovery, legacy_and_aggregated_agree) {
  auto agg
    = parse_aggregated_discovery(test::fixture("aggregated_api_v2.json"));
  auto legacy
    = parse_api_resource_list(test::fixture("legacy_api_v1.json"), true);
  ASSERT_TRUE(agg);
  ASSERT_TRUE(legacy);
  auto a = select_watchable(*agg);
  auto l = select_watchable(*legacy);
  ASSERT_EQ(a.size(), l.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(contains(l, a[i].group_resource())) << a[i].group_resource();
}

TEST(discovery, malformed_documents) {
  EXPECT_FALSE(parse_aggregated_discovery("{"));
  EXPECT_FALSE(parse_aggregated_discovery(test::fixture("legacy_apis.json")));
  EXPECT_FALSE(parse_api_group_list("[]"));
  EXPECT_FALSE(parse_api_resource_list(R"({"kind":"APIResourceList"})", true));
  EXPECT_FALSE(parse_api_versions(R"({"kind":"APIVersions"})"));
}
