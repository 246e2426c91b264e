// Every message type survives CAF's binary serialization: catches types that
// are missing from the type-ID block (Debian's CAF has no compile-time check).
#include "actors/interfaces.hpp"
#include "tests/support/deterministic_fixture.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

namespace kws {
namespace {

struct registration_test : test::deterministic_fixture {
  template <class T>
  T round_trip(const T& x) {
    auto msg = caf::make_message(x);
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    if (auto err = msg.save(sink))
      ADD_FAILURE() << "cannot serialize: " << sys.render(err);
    caf::message copy;
    caf::binary_deserializer source{sys, buf};
    if (auto err = copy.load(source))
      ADD_FAILURE() << "cannot deserialize: " << sys.render(err);
    if (!copy.match_elements<T>()) {
      ADD_FAILURE() << "wrong type after round trip";
      return {};
    }
    return copy.get_as<T>(0);
  }
};

TEST_F(registration_test, resource_event_round_trips) {
  resource_event x;
  x.timestamp_ns = 1'700'000'000'123'456'789;
  x.action = verb::remove;
  x.ns = "default";
  x.resource = "pods";
  x.name = "web-1";
  x.uid = "u-1";
  x.resource_version = "42";
  x.user = "kubectl";
  x.final_state_unknown = true;
  x.record = R"({"verb":"delete"})";
  x.link_resource = "deployments";
  auto y = round_trip(x);
  EXPECT_EQ(y.timestamp_ns, x.timestamp_ns);
  EXPECT_EQ(y.action, verb::remove);
  EXPECT_EQ(y.ns, "default");
  EXPECT_EQ(y.record, x.record);
  EXPECT_TRUE(y.final_state_unknown);
  EXPECT_EQ(y.link_resource, "deployments");
  ingest_batch sent{"pods", {x, x}, "43"};
  sent.gaps.push_back({"pods", 1, 2, "40", "43", "410 Gone"});
  auto batch = round_trip(sent);
  EXPECT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.resource_version, "43");
  ASSERT_EQ(batch.gaps.size(), 1u);
  EXPECT_EQ(batch.gaps[0].end_ns, 2);
  EXPECT_EQ(batch.gaps[0].reason, "410 Gone");
  auto q = round_trip(coverage_query{5, 6});
  EXPECT_EQ(q.start_ns, 5);
  EXPECT_EQ(q.end_ns, 6);
}

TEST_F(registration_test, queries_and_results_round_trip) {
  event_query q;
  q.start_ns = 5;
  q.resource = "deployments";
  q.group = "apps";
  q.verb = "update";
  q.limit = 7;
  q.descending = true;
  q.continue_token = "tok";
  auto q2 = round_trip(q);
  EXPECT_EQ(q2.start_ns, 5);
  EXPECT_EQ(q2.end_ns, max_time_ns);
  EXPECT_EQ(q2.group, "apps");
  EXPECT_EQ(q2.limit, 7u);
  EXPECT_TRUE(q2.descending);
  EXPECT_EQ(q2.continue_token, "tok");
  auto page = round_trip(event_page{{"{}", "{\"a\":1}"}, true, "next"});
  EXPECT_EQ(page.records.size(), 2u);
  EXPECT_TRUE(page.has_more);
  auto h = round_trip(history_query{"", "nodes", "", "n1", 1, 2, 3});
  EXPECT_EQ(h.name, "n1");
  EXPECT_EQ(h.limit, 3u);
  auto oh = round_trip(object_history{true, {"{}"}, {"{}", "{}"}});
  EXPECT_TRUE(oh.found);
  EXPECT_EQ(oh.related_events.size(), 2u);
}

TEST_F(registration_test, watch_and_status_types_round_trip) {
  auto evs = round_trip(
    std::vector<watch_event>{{watch_event_type::bookmark, "{}", "9"}});
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].type, watch_event_type::bookmark);
  EXPECT_EQ(evs[0].resource_version, "9");
  auto list = round_trip(list_result{{"{\"a\":1}"}, "10"});
  EXPECT_EQ(list.resource_version, "10");
  auto live = round_trip(std::vector<live_object>{{"ns/a", "u", "3"}});
  EXPECT_EQ(live.at(0).key, "ns/a");
  EXPECT_EQ(round_trip(watch_checkpoint{"77"}).resource_version, "77");
  resource_type rt{"apps", "v1", "Deployment", "deployments", true};
  readiness r{false, true, {watcher_status{rt, true, "boom", 2}}};
  r.watchers[0].behind = true;
  r.watchers[0].lag_ms = 1234;
  auto r2 = round_trip(r);
  EXPECT_FALSE(r2.ready);
  EXPECT_TRUE(r2.degraded);
  ASSERT_EQ(r2.watchers.size(), 1u);
  EXPECT_TRUE(r2.watchers[0].behind);
  EXPECT_EQ(r2.watchers[0].lag_ms, 1234);
  EXPECT_EQ(r2.watchers[0].type, rt);
  EXPECT_EQ(r2.watchers[0].last_error, "boom");
  EXPECT_EQ(r2.watchers[0].restarts, 2u);
  EXPECT_EQ(round_trip(std::vector<resource_type>{rt}).at(0).plural,
            "deployments");
}

TEST_F(registration_test, http_types_round_trip) {
  auto req
    = round_trip(http_request{"GET", "/api/v1/events", {"limit"}, {"5"}});
  EXPECT_EQ(req.path, "/api/v1/events");
  EXPECT_EQ(req.query_values.at(0), "5");
  http_response res;
  res.status = 400;
  res.headers["X-Total-Count"] = "0";
  res.body = "{}";
  auto res2 = round_trip(res);
  EXPECT_EQ(res2.status, 400);
  EXPECT_EQ(res2.headers.at("X-Total-Count"), "0");
}

TEST_F(registration_test, errors_render_with_context) {
  auto err = caf::make_error(ec::invalid_argument, "limit", "must be > 0");
  EXPECT_EQ(err, ec::invalid_argument);
  EXPECT_EQ(render(err), "invalid_argument: limit: must be > 0");
  EXPECT_EQ(error_detail(err), "limit: must be > 0");
}

} // namespace
} // namespace kws
