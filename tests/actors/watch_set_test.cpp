#include "actors/watch_set.hpp"

#include "util/errors.hpp"

#include <gtest/gtest.h>

namespace kws {
namespace {

std::string crd_json(bool established,
                     const std::string& scope = "Namespaced") {
  return R"({"apiVersion":"apiextensions.k8s.io/v1",)"
         R"("kind":"CustomResourceDefinition",)"
         R"("metadata":{"name":"widgets.example.com"},)"
         R"("spec":{"group":"example.com","scope":")"
    + scope
    + R"(","names":{"plural":"widgets","kind":"Widget"},)"
      R"("versions":[{"name":"v1alpha1","served":true,"storage":false},)"
      R"({"name":"v1","served":true,"storage":true},)"
      R"({"name":"v0","served":false,"storage":false}]},)"
      R"("status":{"conditions":[{"type":"NamesAccepted","status":"True"},)"
      R"({"type":"Established","status":")"
    + (established ? "True" : "False") + R"("}]}})";
}

TEST(watch_set_test, established_crds_give_their_storage_version) {
  auto crd = parse_crd(crd_json(true));
  ASSERT_TRUE(crd) << render(crd.error());
  EXPECT_EQ(crd->name, "widgets.example.com");
  ASSERT_TRUE(crd->type);
  EXPECT_EQ(crd->type->group, "example.com");
  EXPECT_EQ(crd->type->version, "v1");
  EXPECT_EQ(crd->type->kind, "Widget");
  EXPECT_EQ(crd->type->plural, "widgets");
  EXPECT_TRUE(crd->type->namespaced);
  auto cluster = parse_crd(crd_json(true, "Cluster"));
  ASSERT_TRUE(cluster);
  EXPECT_FALSE(cluster->type->namespaced);
}

TEST(watch_set_test, crds_not_yet_established_are_not_watched) {
  auto crd = parse_crd(crd_json(false));
  ASSERT_TRUE(crd);
  EXPECT_EQ(crd->name, "widgets.example.com");
  EXPECT_FALSE(crd->type);
}

TEST(watch_set_test, malformed_crds_are_errors) {
  EXPECT_FALSE(parse_crd("not json"));
  EXPECT_FALSE(parse_crd("[]"));
  EXPECT_FALSE(parse_crd(R"({"metadata":{}})"));
}

TEST(watch_set_test, selects_configured_types_the_apiserver_serves) {
  std::vector<resource_type> configured{
    {"", "v1", "Pod", "pods", true},
    {"extensions", "v1beta1", "Ingress", "ingresses", true}};
  std::vector<api_resource> discovered{
    {{"", "v1", "Pod", "pods", true},
     "pod",
     {"po"},
     {"list", "watch"},
     {},
     true},
    {{"", "v1", "Binding", "bindings", true},
     "binding",
     {},
     {"create"},
     {},
     true},
    {{"apps", "v1", "Deployment", "deployments", true},
     "deployment",
     {"deploy"},
     {"list", "watch"},
     {},
     true},
    {{"apps", "v1beta1", "Deployment", "deployments", true},
     "deployment",
     {"deploy"},
     {"list", "watch"},
     {},
     false}};
  std::map<std::string, resource_type> crds{
    {"widgets.example.com", {"example.com", "v1", "Widget", "widgets", true}}};
  auto names = [](const std::vector<resource_type>& xs) {
    std::vector<std::string> out;
    for (auto& x : xs)
      out.push_back(x.group_resource() + "/" + x.version);
    return out;
  };
  EXPECT_EQ(names(select_watched(configured, discovered, crds, false, false)),
            (std::vector<std::string>{"pods/v1"}));
  EXPECT_EQ(names(select_watched(configured, discovered, crds, false, true)),
            (std::vector<std::string>{"pods/v1", "widgets.example.com/v1"}));
  EXPECT_EQ(names(select_watched(configured, discovered, {}, true, false)),
            (std::vector<std::string>{"deployments.apps/v1", "pods/v1"}));
}

TEST(watch_set_test, events_are_watched_through_one_api) {
  resource_type core{"", "v1", "Event", "events", true};
  resource_type k8s_io{"events.k8s.io", "v1", "Event", "events", true};
  std::vector<api_resource> discovered{
    {core, "event", {"ev"}, {"list", "watch"}, {}, true},
    {k8s_io, "event", {"ev"}, {"list", "watch"}, {}, true}};
  auto names = [](const std::vector<resource_type>& xs) {
    std::vector<std::string> out;
    for (auto& x : xs)
      out.push_back(x.group_resource());
    return out;
  };
  const std::vector<std::string> only_core{"events"};
  EXPECT_EQ(names(select_watched({}, discovered, {}, true, false)), only_core);
  EXPECT_EQ(names(select_watched({core, k8s_io}, discovered, {}, false, false)),
            only_core);
  // Without the core API, events.k8s.io is the way to them.
  EXPECT_EQ(names(select_watched({k8s_io}, discovered, {}, false, false)),
            std::vector<std::string>{"events.events.k8s.io"});
}

} // namespace
} // namespace kws
