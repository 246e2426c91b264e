// The light form of a record (`view=summary`), checked by parsing what it
// gives with nlohmann's parser.
#include "rest/record_summary.hpp"

#include "messages/query.hpp"
#include "rest/render.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kws::rest {
namespace {

using nlohmann::json;

const std::string pod_record
  = R"({"id":"0000000000000007","verb":"update","resourceType":"pods",)"
    R"("resourceName":"web-1","message":"Update pods web-1",)"
    R"("objectChanges":{"metadata":{"name":"web-1","labels":{"app":"web"},)"
    R"("ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet",)"
    R"("name":"web-7d","uid":"u-1","controller":true,"blockOwnerDeletion":true}]},)"
    R"("spec":{"objectChanges":{"x":1}}}})";

TEST(record_summary_test, drops_the_snapshot_and_keeps_owners_and_labels) {
  auto out = json::parse(summarize_record(pod_record));
  EXPECT_FALSE(out.contains("objectChanges"));
  EXPECT_EQ(out["id"], "0000000000000007");
  EXPECT_EQ(out["message"], "Update pods web-1");
  EXPECT_EQ(out["labels"], json({{"app", "web"}}));
  ASSERT_EQ(out["ownerReferences"].size(), 1u);
  EXPECT_EQ(out["ownerReferences"][0],
            json({{"kind", "ReplicaSet"},
                  {"name", "web-7d"},
                  {"uid", "u-1"},
                  {"controller", true}}));
}

TEST(record_summary_test, a_record_without_owners_or_snapshot_stays_valid) {
  auto bare = json::parse(summarize_record(
    R"({"id":"01","objectChanges":{"metadata":{"name":"a"}}})"));
  EXPECT_EQ(bare, json({{"id", "01"}}));
  const std::string no_snapshot = R"({"id":"02","verb":"delete"})";
  EXPECT_EQ(summarize_record(no_snapshot), no_snapshot);
  auto broken = json::parse(
    summarize_record(R"({"id":"03","objectChanges":{"metadata":[1,}})"));
  EXPECT_EQ(broken, json({{"id", "03"}}));
}

TEST(record_summary_test, a_summary_page_is_a_json_array_of_light_records) {
  event_page page;
  page.records = {pod_record, R"({"id":"02","verb":"delete"})"};
  page.has_more = true;
  page.continue_token = "c1";
  auto res = render_page(page, true);
  auto body = json::parse(res.body);
  ASSERT_EQ(body.size(), 2u);
  EXPECT_FALSE(body[0].contains("objectChanges"));
  EXPECT_EQ(body[0]["labels"]["app"], "web");
  EXPECT_EQ(body[1]["verb"], "delete");
  EXPECT_EQ(res.headers["X-Total-Count"], "2");
  EXPECT_EQ(res.headers["X-Continue"], "c1");
  EXPECT_LT(res.body.size(), pod_record.size() + 40);
}

} // namespace
} // namespace kws::rest
