// Label and field selectors, and the request and checks of a filtered type.
#include "kube/selector.hpp"

#include "util/errors.hpp"

#include <gtest/gtest.h>

namespace kws::kube {
namespace {

const resource_type pods{"", "v1", "Pod", "pods", true};
const resource_type nodes{"", "v1", "Node", "nodes", false};
const resource_type widgets{"example.com", "v1", "Widget", "widgets", true};

std::map<std::string, std::string>
labels(std::initializer_list<std::pair<const std::string, std::string>> xs) {
  return xs;
}

bool selects(std::string_view selector,
             const std::map<std::string, std::string>& ls) {
  auto parsed = parse_label_selector(selector);
  EXPECT_TRUE(parsed) << selector << ": " << error_detail(parsed.error());
  return parsed && matches(*parsed, ls);
}

TEST(label_selector_test, every_operator_matches_like_the_apiserver) {
  auto web = labels({{"app", "web"}, {"tier", "front"}, {"shards", "4"}});
  EXPECT_TRUE(selects("", web));
  EXPECT_TRUE(selects("app=web", web));
  EXPECT_TRUE(selects("app==web", web));
  EXPECT_FALSE(selects("app!=web", web));
  EXPECT_TRUE(selects("app!=db", web));
  // A missing key satisfies != and notin.
  EXPECT_TRUE(selects("team!=a", web));
  EXPECT_TRUE(selects("tier in (front, back)", web));
  EXPECT_FALSE(selects("tier notin (front,back)", web));
  EXPECT_TRUE(selects("team notin (a)", web));
  EXPECT_TRUE(selects("app", web));
  EXPECT_FALSE(selects("!app", web));
  EXPECT_TRUE(selects("!team", web));
  EXPECT_TRUE(selects("shards>3", web));
  EXPECT_FALSE(selects("shards<4", web));
  EXPECT_TRUE(selects("app=web, tier in (front), !team", web));
  EXPECT_FALSE(selects("app=web,tier=back", web));
  EXPECT_TRUE(selects("example.com/owner!=x", web));
}

TEST(label_selector_test, malformed_selectors_say_what_is_wrong) {
  for (std::string_view bad :
       {"app=web,", "a b", "tier in front", "tier in (a,,b)", "in (", "!",
        "app=we b", "x>y", "app=(x)", "a=b)"}) {
    auto parsed = parse_label_selector(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(error_detail(parsed.error()).find(std::string{bad}),
              std::string::npos)
      << error_detail(parsed.error());
  }
}

TEST(field_selector_test, parses_equalities_and_rejects_the_rest) {
  auto parsed = parse_field_selector(
    "spec.nodeName=node-1, status.phase!=Running,metadata.name==a");
  ASSERT_TRUE(parsed) << error_detail(parsed.error());
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].path, "spec.nodeName");
  EXPECT_TRUE((*parsed)[0].equals);
  EXPECT_EQ((*parsed)[0].value, "node-1");
  EXPECT_FALSE((*parsed)[1].equals);
  EXPECT_EQ((*parsed)[1].value, "Running");
  EXPECT_EQ((*parsed)[2].value, "a");
  EXPECT_FALSE(parse_field_selector("spec.nodeName"));
  EXPECT_FALSE(parse_field_selector("=x"));
  EXPECT_FALSE(parse_field_selector("a=b,,c=d"));
}

TEST(selection_test, one_namespace_uses_the_namespaced_path) {
  watch_filter f;
  f.namespaces = {"shop"};
  f.label_selector = "app=web";
  auto sel = make_selection(pods, f);
  ASSERT_TRUE(sel) << error_detail(sel.error());
  EXPECT_EQ(sel->collection_path(pods), "/api/v1/namespaces/shop/pods");
  EXPECT_EQ(sel->collection_path(widgets),
            "/apis/example.com/v1/namespaces/shop/widgets");
  EXPECT_EQ(sel->query(), "&labelSelector=app%3Dweb");
  EXPECT_TRUE(sel->selects_namespace("shop"));
  EXPECT_FALSE(sel->selects_namespace("other"));
}

TEST(selection_test, exclusions_go_to_the_apiserver_as_a_field_selector) {
  watch_filter f;
  f.exclude_namespaces = {"kube-system", "noisy"};
  f.field_selector = "spec.nodeName=n1";
  auto sel = make_selection(pods, f);
  ASSERT_TRUE(sel);
  EXPECT_EQ(sel->collection_path(pods), "/api/v1/pods");
  EXPECT_EQ(sel->field_selector,
            "spec.nodeName=n1,metadata.namespace!=kube-"
            "system,metadata.namespace!=noisy");
  EXPECT_EQ(sel->query(),
            "&fieldSelector=spec.nodeName%3Dn1%2Cmetadata.namespace%21%3Dkube-"
            "system%2Cmetadata.namespace%21%3Dnoisy");
  EXPECT_FALSE(sel->selects_namespace("noisy"));
  EXPECT_TRUE(sel->selects_namespace("shop"));
}

TEST(selection_test, several_namespaces_are_checked_here) {
  watch_filter f;
  f.namespaces = {"a", "b", "c"};
  f.exclude_namespaces = {"c"};
  auto sel = make_selection(pods, f);
  ASSERT_TRUE(sel);
  EXPECT_EQ(sel->collection_path(pods), "/api/v1/pods");
  EXPECT_EQ(sel->query(), "");
  EXPECT_TRUE(sel->checks_objects());
  EXPECT_TRUE(sel->selects_namespace("a"));
  EXPECT_FALSE(sel->selects_namespace("c"));
  EXPECT_FALSE(sel->selects_namespace("d"));
  EXPECT_TRUE(
    selects_object(*sel, R"({"metadata":{"name":"x","namespace":"b"}})"));
  EXPECT_FALSE(
    selects_object(*sel, R"({"metadata":{"name":"x","namespace":"d"}})"));
  EXPECT_FALSE(selects_object(*sel, "{not json"));
}

TEST(selection_test, a_filter_that_leaves_no_namespace_is_an_error) {
  watch_filter f;
  f.namespaces = {"a"};
  f.exclude_namespaces = {"a"};
  EXPECT_FALSE(make_selection(pods, f));
  // Cluster-scoped types have no namespaces to leave out.
  EXPECT_TRUE(make_selection(nodes, f));
  EXPECT_EQ(make_selection(nodes, f)->collection_path(nodes), "/api/v1/nodes");
}

TEST(selection_test, objects_are_checked_against_labels_and_fields) {
  watch_filter f;
  f.label_selector = "app=web";
  f.field_selector = "spec.nodeName=n1,spec.hostNetwork!=true";
  auto sel = make_selection(pods, f);
  ASSERT_TRUE(sel);
  EXPECT_TRUE(selects_object(
    *sel, R"({"metadata":{"labels":{"app":"web"}},"spec":{"nodeName":"n1"}})"));
  EXPECT_FALSE(selects_object(
    *sel, R"({"metadata":{"labels":{"app":"db"}},"spec":{"nodeName":"n1"}})"));
  EXPECT_FALSE(selects_object(
    *sel, R"({"metadata":{"labels":{"app":"web"}},"spec":{"nodeName":"n2"}})"));
  EXPECT_FALSE(
    selects_object(*sel,
                   R"({"metadata":{"labels":{"app":"web"}},)"
                   R"("spec":{"nodeName":"n1","hostNetwork":true}})"));
}

TEST(watch_filters_test, a_types_own_lists_narrow_the_global_ones) {
  watch_filters fs;
  fs.namespaces = {"a", "b"};
  fs.exclude_namespaces = {"kube-system"};
  watch_filter own;
  own.namespaces = {"c"};
  own.exclude_namespaces = {"d"};
  own.status = status_updates::drop;
  fs.by_type["pods"] = own;
  auto p = fs.for_type(pods);
  EXPECT_EQ(p.namespaces, std::vector<std::string>{"c"});
  EXPECT_EQ(p.exclude_namespaces,
            (std::vector<std::string>{"d", "kube-system"}));
  EXPECT_EQ(p.status, status_updates::drop);
  auto w = fs.for_type(widgets);
  EXPECT_EQ(w.namespaces, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(fs.for_type(nodes).records_everything());
}

} // namespace
} // namespace kws::kube
