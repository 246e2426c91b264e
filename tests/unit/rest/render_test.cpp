#include "rest/render.hpp"

#include "tests/support/contract_record.hpp"
#include "util/errors.hpp"

#include <caf/sec.hpp>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>

using namespace kws;
using namespace kws::rest;

namespace {

/// Two records as storage serves them (id first, contract fields, Event
/// extensions on the second).
const std::string pod_record
  = R"({"id":"0000000000000001","timestamp":"2026-11-26T10:18:00.25Z",)"
    R"("verb":"create","user":"kubelet","namespace":"default",)"
    R"("resourceType":"pods","resourceName":"web","responseStatus":201,)"
    R"("message":"Create pods web","stage":"ResponseComplete",)"
    R"("requestURI":"/api/v1/namespaces/default/pods/web","uid":"u1",)"
    R"("apiVersion":"v1","kind":"Pod","resourceVersion":"7",)"
    R"("objectChanges":{"metadata":{"name":"web"}}})";

const std::string event_record
  = R"({"id":"0000000000000002","timestamp":"2026-11-26T10:18:01Z",)"
    R"("verb":"create","user":"kubelet","namespace":"default",)"
    R"("resourceType":"events","resourceName":"web.1","responseStatus":201,)"
    R"("message":"Back-off restarting failed container",)"
    R"("stage":"ResponseComplete",)"
    R"("requestURI":"/api/v1/namespaces/default/events/web.1","uid":"e1",)"
    R"("apiVersion":"v1","kind":"Event","resourceVersion":"8",)"
    R"("reason":"BackOff","type":"Warning","count":3,)"
    R"("involvedObject":{"kind":"Pod","namespace":"default","name":"web",)"
    R"("uid":"u1","apiVersion":"v1"},"objectChanges":{}})";

} // namespace

TEST(render_test, page_is_the_record_array_with_headers) {
  event_page page;
  page.records = {pod_record, event_record};
  page.has_more = true;
  page.continue_token = "tok";
  auto res = render_page(page);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, "[" + pod_record + "," + event_record + "]");
  EXPECT_EQ(res.headers.at("X-Total-Count"), "2");
  EXPECT_EQ(res.headers.at("X-Has-More"), "true");
  EXPECT_EQ(res.headers.at("X-Continue"), "tok");
}

TEST(render_test, last_and_empty_pages) {
  event_page last;
  last.records = {pod_record};
  auto res = render_page(last);
  EXPECT_EQ(res.headers.at("X-Has-More"), "false");
  EXPECT_EQ(res.headers.count("X-Continue"), 0u);
  auto empty = render_page(event_page{});
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "[]");
  EXPECT_EQ(empty.headers.at("X-Total-Count"), "0");
  EXPECT_EQ(empty.headers.at("X-Has-More"), "false");
}

TEST(render_test, history_has_the_contract_shape) {
  history_query q;
  q.ns = "default";
  q.resource = "pods";
  q.name = "web";
  object_history h;
  h.found = true;
  h.watch_events = {pod_record};
  h.related_events = {event_record};
  auto res = render_history(q, h);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body,
            R"({"namespace":"default","resourceType":"pods",)"
            R"("resourceName":"web","watchEvents":[)"
              + pod_record + R"(],"relatedEvents":[)" + event_record + "]}");
  q.ns = "";
  q.resource = "nodes";
  q.name = "node-\"1\"";
  h.watch_events.clear();
  h.related_events.clear();
  EXPECT_EQ(render_history(q, h).body,
            R"({"namespace":"","resourceType":"nodes",)"
            R"("resourceName":"node-\"1\"","watchEvents":[],)"
            R"("relatedEvents":[]})");
}

TEST(render_test, unseen_object_is_a_404_error) {
  history_query q;
  q.ns = "default";
  q.resource = "pods";
  q.name = "ghost";
  auto res = render_history(q, object_history{});
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, R"({"error":"no history for pods default/ghost"})");
}

TEST(render_test, parameter_errors_are_400_naming_the_parameter) {
  auto res = render_error(
    caf::make_error(ec::invalid_argument, "limit", "limit must be at least 1"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body,
            R"({"error":"limit must be at least 1","parameter":"limit"})");
}

TEST(render_test, errors_without_parameter_and_other_codes) {
  auto plain = render_error(
    caf::make_error(ec::invalid_argument, "the \"path\" is odd"));
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(plain.body, R"({"error":"the \"path\" is odd"})");
  auto missing = render_error(caf::make_error(ec::not_found, "no such object"));
  EXPECT_EQ(missing.status, 404);
  auto taken = render_error(
    caf::make_error(ec::already_exists, "dest", "/b exists already"));
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(taken.body, R"({"error":"/b exists already","parameter":"dest"})");
  EXPECT_EQ(missing.body, R"({"error":"no such object"})");
  auto broken = render_error(
    caf::make_error(ec::storage_failure, "cannot read partition p1"));
  EXPECT_EQ(broken.status, 500);
  EXPECT_EQ(broken.body,
            R"({"error":"storage_failure: cannot read partition p1"})");
  auto bare = render_error(caf::make_error(ec::invalid_argument));
  EXPECT_EQ(bare.status, 400);
  EXPECT_EQ(bare.body, R"({"error":"bad request"})");
  auto not_ready = render_error(
    caf::make_error(ec::unavailable, "resourceType", "not discovered yet"));
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(not_ready.body,
            R"({"error":"unavailable: resourceType: not discovered yet"})");
  auto other = render_error(caf::make_error(caf::sec::unexpected_message));
  EXPECT_EQ(other.status, 500);
  auto foreign = render_error(caf::make_error(caf::sec::request_timeout));
  EXPECT_EQ(foreign.status, 504);
  rapidjson::Document doc;
  doc.Parse(foreign.body.c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_TRUE(doc["error"].IsString());
  EXPECT_FALSE(doc.HasMember("parameter"));
}

TEST(render_test, rendered_page_decodes_strictly_as_the_contract_records) {
  event_page page;
  page.records = {pod_record, event_record};
  auto res = render_page(page);
  rapidjson::Document doc;
  doc.Parse(res.body.c_str());
  ASSERT_FALSE(doc.HasParseError());
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 2u);
  std::set<std::string> ids;
  for (const auto& rec : doc.GetArray()) {
    kws::test::expect_contract_record(rec);
    EXPECT_TRUE(ids.insert(rec["id"].GetString()).second);
  }
  const auto& ev = doc[1];
  EXPECT_TRUE(ev["reason"].IsString());
  EXPECT_TRUE(ev["type"].IsString());
  EXPECT_TRUE(ev["count"].IsInt());
  ASSERT_TRUE(ev["involvedObject"].IsObject());
  for (const char* key : {"kind", "namespace", "name", "uid", "apiVersion"})
    EXPECT_TRUE(ev["involvedObject"][key].IsString()) << key;
}
