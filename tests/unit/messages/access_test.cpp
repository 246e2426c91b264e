#include "messages/access.hpp"

#include <gtest/gtest.h>

using namespace kws;

TEST(access_filter, everything_lets_all_through) {
  access_filter f;
  EXPECT_TRUE(allows(f, "any", "secrets", ""));
  EXPECT_TRUE(allows_any_group(f, "", "nodes"));
}

TEST(access_filter, matches_whole_names_only) {
  access_filter f;
  f.everything = false;
  f.cluster_types = {"deployments.apps", "pods"};
  f.namespace_types = {"a/configmaps", "a/jobs.batch", "ab/secrets"};
  EXPECT_TRUE(allows(f, "x", "pods", ""));
  EXPECT_TRUE(allows(f, "", "pods", ""));
  EXPECT_TRUE(allows(f, "x", "deployments", "apps"));
  // A prefix or an extension of an allowed name is another name.
  EXPECT_FALSE(allows(f, "x", "pod", ""));
  EXPECT_FALSE(allows(f, "x", "podsx", ""));
  EXPECT_FALSE(allows(f, "x", "pods", "metrics.k8s.io"));
  EXPECT_FALSE(allows(f, "x", "deployments", ""));
  EXPECT_FALSE(allows(f, "x", "deployments", "app"));
  EXPECT_TRUE(allows(f, "a", "configmaps", ""));
  EXPECT_TRUE(allows(f, "a", "jobs", "batch"));
  EXPECT_FALSE(allows(f, "b", "configmaps", ""));
  EXPECT_FALSE(allows(f, "", "configmaps", ""));
  EXPECT_FALSE(allows(f, "a", "secrets", ""));
  EXPECT_TRUE(allows(f, "ab", "secrets", ""));
  EXPECT_FALSE(allows(f, "a", "b/secrets", ""));
}

TEST(access_filter, any_group_of_a_plural) {
  access_filter f;
  f.everything = false;
  f.cluster_types = {"pods-x", "pods.metrics.k8s.io"};
  f.namespace_types = {"a/jobs.batch", "a/jobsx"};
  EXPECT_TRUE(allows_any_group(f, "z", "pods"));
  EXPECT_FALSE(allows_any_group(f, "z", "pod"));
  EXPECT_TRUE(allows_any_group(f, "a", "jobs"));
  EXPECT_FALSE(allows_any_group(f, "b", "jobs"));
  EXPECT_FALSE(allows_any_group(f, "a", "job"));
  f.namespace_types = {"a/jobsx"};
  EXPECT_FALSE(allows_any_group(f, "a", "jobs"));
}

TEST(access_filter, record_owners) {
  auto owner = record_owner(
    R"({"namespace":"a","resourceType":"deployments","apiVersion":"apps/v1"})");
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->ns, "a");
  EXPECT_EQ(owner->type.group_resource(), "deployments.apps");
  EXPECT_TRUE(owner->type.namespaced);
  owner = record_owner(
    R"({"namespace":"","resourceType":"nodes","apiVersion":"v1"})");
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->type.group_resource(), "nodes");
  EXPECT_FALSE(owner->type.namespaced);
  EXPECT_FALSE(record_owner(R"({"resourceType":"nodes","apiVersion":"v1"})"));
  EXPECT_FALSE(record_owner("not json"));
}
