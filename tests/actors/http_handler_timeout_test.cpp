// A stuck INDEX behind the HTTP HANDLER: its query answers 504 once
// (virtual) time runs out, and with two indexes the other one answers
// everything meanwhile.
#include "tests/actors/http_handler_fixture.hpp"

namespace kws {
namespace {

using namespace std::chrono_literals;
using test::http_handler_test;

TEST_F(http_handler_test, a_stuck_index_times_out_with_504) {
  idx->hang = true;
  auto rp = std::make_shared<test::capture_responder>();
  self->send(relay, http_request{"GET", "/api/v1/events", {}, {}, false},
             responder_ptr{rp});
  run();
  EXPECT_FALSE(rp->response) << "answered before the timeout";
  advance(2s);
  ASSERT_TRUE(rp->response);
  EXPECT_EQ(rp->response->status, 504);
}

/// Two INDEX actors behind one handler.
struct http_handler_pool_test : http_handler_test {
  std::shared_ptr<test::index_log> idx2 = std::make_shared<test::index_log>();
  index_actor index2 = sys.spawn(test::mock_index, idx2);

  void SetUp() override { start({index, index2}); }

  void TearDown() override {
    self->send_exit(index2, caf::exit_reason::user_shutdown);
    http_handler_test::TearDown();
  }
};

TEST_F(http_handler_pool_test, a_stuck_index_does_not_hold_up_other_queries) {
  idx->hang = true;
  auto stuck = send("/api/v1/events");
  run();
  ASSERT_EQ(idx->queries.size(), 1u);
  EXPECT_FALSE(stuck->response);
  // The other index answers everything while the first one is busy.
  idx2->page = event_page{{R"({"id":"7"})"}, false, ""};
  idx2->history.found = true;
  auto res = call("/api/v1/events", {"verb"}, {"delete"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"([{"id":"7"}])");
  res = call("/api/v1/events/default/pods/web-1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(idx->queries.size(), 1u);
  EXPECT_TRUE(idx->histories.empty());
  ASSERT_EQ(idx2->queries.size(), 1u);
  EXPECT_EQ(idx2->queries[0].verb, "delete");
  ASSERT_EQ(idx2->histories.size(), 1u);
  EXPECT_EQ(idx2->histories[0].name, "web-1");
  // Once the stuck query timed out, the first index takes queries again.
  advance(2s);
  ASSERT_TRUE(stuck->response);
  EXPECT_EQ(stuck->response->status, 504);
  idx->hang = false;
  res = call("/api/v1/events");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(idx->queries.size(), 2u);
}

} // namespace
} // namespace kws
