// A hub's routing of requests by `cluster`: the parameter is taken off the
// request the cluster's handler gets, a hub of one cluster needs none, and
// a missing, unknown or repeated cluster is a 400 naming `cluster`.
#include "rest/cluster_route.hpp"

#include "rest/render.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>

namespace kws::rest {
namespace {

http_request get(std::string path,
                 std::vector<std::pair<std::string, std::string>> query = {}) {
  http_request req;
  req.method = "GET";
  req.path = std::move(path);
  for (auto& [k, v] : query) {
    req.query_names.push_back(k);
    req.query_values.push_back(v);
  }
  return req;
}

const std::vector<std::string> two{"eu", "us"};

TEST(cluster_route, the_cluster_named_gets_the_request_without_the_parameter) {
  auto r = route_by_cluster(
    get("/api/v1/events", {{"limit", "5"}, {"cluster", "us"}, {"ns", "x"}}),
    two);
  ASSERT_TRUE(r) << render(r.error());
  EXPECT_EQ(r->cluster, "us");
  EXPECT_EQ(r->request.query_names, (std::vector<std::string>{"limit", "ns"}));
  EXPECT_EQ(r->request.query_values, (std::vector<std::string>{"5", "x"}));
  EXPECT_EQ(r->request.path, "/api/v1/events");
}

TEST(cluster_route, a_hub_of_one_cluster_needs_none) {
  auto r = route_by_cluster(get("/api/v1/changes"), {"eu"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cluster, "eu");
}

TEST(cluster_route, probes_metrics_and_the_list_of_clusters_need_none) {
  for (const char* path : {"/healthz", "/readyz", "/livez", "/metrics"}) {
    auto r = route_by_cluster(get(path), two);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->cluster, "eu") << path;
  }
  auto list = route_by_cluster(get("/api/v1/clusters"), two);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->cluster, "");
  auto res = render_clusters(two);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"clusters":[{"name":"eu"},{"name":"us"}]})");
}

TEST(cluster_route, changes_without_a_cluster_go_to_every_cluster) {
  auto r = route_by_cluster(get("/api/v1/changes", {{"limit", "5"}}), two);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->every);
  EXPECT_EQ(r->cluster, "");
  EXPECT_EQ(r->request.query_names, (std::vector<std::string>{"limit"}));
  auto one = route_by_cluster(get("/api/v1/changes", {{"cluster", "us"}}), two);
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->every);
  EXPECT_EQ(one->cluster, "us");
  auto paged
    = route_by_cluster(get("/api/v1/changes", {{"continue", "abc"}}), two);
  ASSERT_FALSE(paged);
  EXPECT_EQ(render_error(paged.error()).status, 400);
  EXPECT_NE(render_error(paged.error()).body.find(R"("parameter":"continue")"),
            std::string::npos);
}

TEST(cluster_route, mcp_without_a_cluster_is_the_hubs_own) {
  auto r = route_by_cluster(get("/mcp"), two);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->hub_mcp);
  auto one = route_by_cluster(get("/mcp", {{"cluster", "eu"}}), two);
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->hub_mcp);
  EXPECT_EQ(one->cluster, "eu");
  auto single = route_by_cluster(get("/mcp"), {"eu"});
  ASSERT_TRUE(single);
  EXPECT_FALSE(single->hub_mcp) << "a hub of one cluster is that cluster's";
}

TEST(cluster_route, a_missing_unknown_or_repeated_cluster_is_named) {
  auto why = [](http_request req) {
    auto r = route_by_cluster(std::move(req), two);
    if (r)
      return std::string{"routed"};
    auto res = render_error(r.error());
    EXPECT_EQ(res.status, 400);
    EXPECT_NE(res.body.find(R"("parameter":"cluster")"), std::string::npos)
      << res.body;
    return error_detail(r.error());
  };
  EXPECT_NE(why(get("/api/v1/events")).find("this hub answers for eu, us"),
            std::string::npos);
  EXPECT_NE(why(get("/api/v1/events", {{"cluster", "asia"}}))
              .find("unknown cluster 'asia'"),
            std::string::npos);
  EXPECT_NE(why(get("/api/v1/events", {{"cluster", "eu"}, {"cluster", "us"}}))
              .find("more than once"),
            std::string::npos);
}

} // namespace
} // namespace kws::rest
