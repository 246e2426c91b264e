#include "storage/change_class.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace kws::storage;

namespace {

change_class of(std::vector<std::string> paths) {
  return classify_update(paths);
}

} // namespace

TEST(change_class_test, names_round_trip) {
  for (auto c : {change_class::spec, change_class::status, change_class::meta,
                 change_class::none, change_class::event}) {
    auto parsed = parse_change_class(to_string(c));
    ASSERT_TRUE(parsed.has_value()) << to_string(c);
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_EQ(to_string(change_class::spec), "spec");
  EXPECT_EQ(to_string(change_class::event), "event");
  EXPECT_EQ(to_string(change_class::unknown), "");
  EXPECT_FALSE(parse_change_class("").has_value());
  EXPECT_FALSE(parse_change_class("unknown").has_value());
  EXPECT_FALSE(parse_change_class("Spec").has_value());
}

TEST(change_class_test, bookkeeping_paths) {
  EXPECT_TRUE(is_bookkeeping("/metadata/resourceVersion"));
  EXPECT_TRUE(is_bookkeeping("/metadata/generation"));
  EXPECT_TRUE(is_bookkeeping("/metadata/managedFields"));
  EXPECT_TRUE(is_bookkeeping("/metadata/managedFields/0/time"));
  EXPECT_TRUE(is_bookkeeping("/status/observedGeneration"));
  EXPECT_TRUE(is_bookkeeping("/status/conditions/0/observedGeneration"));
  EXPECT_FALSE(is_bookkeeping("/metadata/generationX"));
  EXPECT_FALSE(is_bookkeeping("/metadata/managedFieldsX"));
  EXPECT_FALSE(is_bookkeeping("/spec/observedGeneration"));
  EXPECT_FALSE(is_bookkeeping("/status/observedGenerationX"));
  EXPECT_FALSE(is_bookkeeping("/status/observedGeneration/x"));
  EXPECT_FALSE(is_bookkeeping("/metadata/labels/generation"));
  EXPECT_FALSE(is_bookkeeping(""));
}

TEST(change_class_test, spec_outside_status_and_metadata) {
  EXPECT_EQ(of({"/spec/replicas"}), change_class::spec);
  EXPECT_EQ(of({"/data/key"}), change_class::spec);
  EXPECT_EQ(of({"/statusX"}), change_class::spec);
  EXPECT_EQ(of({""}), change_class::spec);
}

TEST(change_class_test, spec_metadata) {
  for (const char* p :
       {"/metadata/labels/app", "/metadata/labels",
        "/metadata/annotations/a~1b", "/metadata/ownerReferences/0/uid",
        "/metadata/finalizers/0", "/metadata/deletionTimestamp"})
    EXPECT_EQ(of({p}), change_class::spec) << p;
  EXPECT_EQ(of({"/metadata/labelsX"}), change_class::meta);
}

TEST(change_class_test, meta_and_status) {
  EXPECT_EQ(of({"/metadata/deletionGracePeriodSeconds"}), change_class::meta);
  EXPECT_EQ(of({"/status/replicas"}), change_class::status);
  EXPECT_EQ(of({"/status/replicas", "/metadata/uid"}), change_class::meta);
}

TEST(change_class_test, bookkeeping_only_is_none) {
  EXPECT_EQ(of({}), change_class::none);
  EXPECT_EQ(
    of({"/metadata/generation", "/metadata/resourceVersion",
        "/metadata/managedFields/0/time", "/status/observedGeneration"}),
    change_class::none);
}

TEST(change_class_test, mixes_take_the_strongest_class) {
  EXPECT_EQ(of({"/metadata/resourceVersion", "/status/replicas",
                "/metadata/annotations/x", "/metadata/uid"}),
            change_class::spec);
  EXPECT_EQ(of({"/status/observedGeneration", "/status/readyReplicas"}),
            change_class::status);
  EXPECT_EQ(of({"/metadata/generation", "/spec/replicas"}), change_class::spec);
}
