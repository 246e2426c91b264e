// Short requests of the kube client against the real control plane:
// discovery (with a CRD created here) and a list paged one item at a time.
#include "kube/discovery.hpp"
#include "kube/resolver.hpp"
#include "kube/wire.hpp"
#include "tests/e2e/kube_client_fixture.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace kws::kube;
using namespace kws::kube::e2e;
using namespace std::chrono_literals;

// -- discovery ----------------------------------------------------------------

TEST_F(kube_e2e, discovery_finds_core_apps_and_a_new_crd) {
  auto infos = discover_sync(admin);
  ASSERT_TRUE(infos) << kws::render(infos.error());
  auto types = select_watchable(*infos);
  auto has = [&](const std::vector<kws::resource_type>& xs,
                 const std::string& gr) {
    return std::any_of(xs.begin(), xs.end(), [&](const kws::resource_type& t) {
      return t.group_resource() == gr;
    });
  };
  EXPECT_TRUE(has(types, "pods"));
  EXPECT_TRUE(has(types, "configmaps"));
  EXPECT_TRUE(has(types, "deployments.apps"));
  EXPECT_TRUE(has(types, "customresourcedefinitions.apiextensions.k8s.io"));
  EXPECT_FALSE(has(types, "bindings"));
  EXPECT_FALSE(has(types, "events.events.k8s.io"));
  auto widget = create_crd();
  std::vector<kws::resource_type> later;
  std::vector<api_resource_info> later_infos;
  ASSERT_TRUE(eventually([&] {
    auto again = discover_sync(admin);
    if (!again)
      return false;
    later_infos = *again;
    later = select_watchable(*again);
    return has(later, widget.group_resource());
  }))
    << widget.group_resource() << " never showed up in discovery";
  resource_resolver resolver{later_infos};
  for (const auto& name : std::vector<std::string>{
         widget.plural, "widget" + crd_suffix, widget.kind, "wdg" + crd_suffix,
         widget.plural + "." + widget.group}) {
    auto t = resolver.resolve(name);
    ASSERT_TRUE(t) << name << ": " << kws::render(t.error());
    EXPECT_EQ(*t, widget) << name;
  }
  auto deploy = resolver.resolve_kind("apps/v1", "Deployment");
  ASSERT_TRUE(deploy);
  EXPECT_EQ(deploy->plural, "deployments");
}

// -- lists --------------------------------------------------------------------

TEST_F(kube_e2e, list_with_limit_one_pages_through_everything) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(call(*admin, "POST", cm_path(),
                     configmap(fmt::format("page-{}", i), "x")));
  auto full = call(*admin, "GET", cm_path());
  ASSERT_TRUE(full);
  auto all = parse_list_page(*full, "ConfigMap");
  ASSERT_TRUE(all);
  std::set<std::string> expected;
  for (const auto& item : all->items)
    expected.insert(parse_object_meta(item)->name);
  ASSERT_GE(expected.size(), 5u);
  std::set<std::string> paged;
  std::string token;
  int pages = 0;
  std::string list_rv;
  do {
    auto target = cm_path() + "?limit=1";
    if (!token.empty())
      target += "&continue=" + url_encode(token);
    auto body = call(*admin, "GET", target);
    ASSERT_TRUE(body) << kws::render(body.error());
    auto page = parse_list_page(*body, "ConfigMap");
    ASSERT_TRUE(page);
    ASSERT_LE(page->items.size(), 1u);
    if (pages == 0)
      list_rv = page->resource_version;
    // Every page reports the same snapshot RV.
    EXPECT_EQ(page->resource_version, list_rv);
    for (const auto& item : page->items) {
      EXPECT_EQ(json_string(item, "kind"), "ConfigMap");
      EXPECT_EQ(json_string(item, "apiVersion"), "v1");
      paged.insert(parse_object_meta(item)->name);
    }
    token = page->continue_token;
    ASSERT_LT(++pages, 100);
  } while (!token.empty());
  EXPECT_EQ(paged, expected);
  EXPECT_GE(pages, 5);
}
