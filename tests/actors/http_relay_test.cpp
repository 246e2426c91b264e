// The HTTP RELAY on the deterministic scheduler: it hands the HTTP HANDLER's
// reply to the responder unchanged, and answers 503 when the handler has
// stopped.
#include "actors/http_relay.hpp"

#include "tests/actors/mocks.hpp"
#include "tests/support/deterministic_fixture.hpp"

#include <caf/event_based_actor.hpp>

namespace kws {
namespace {

/// Answers every request at once with `status` and its path in a header.
/// (It takes an argument: CAF 0.17 reads a null argument tuple when it
/// spawns a function without any, which UBSan reports.)
http_handler_actor::behavior_type echo_handler(uint16_t status) {
  return {
    [status](http_request& req) {
      http_response res;
      res.status = status;
      res.headers["x-path"] = req.path;
      res.body = R"({"method":")" + req.method + R"("})";
      return res;
    },
    [](kube::type_catalog_ptr&) {},
  };
}

struct http_relay_test : test::deterministic_fixture {
  std::shared_ptr<test::capture_responder> send(const http_relay_actor& relay,
                                                const std::string& path) {
    auto rp = std::make_shared<test::capture_responder>();
    self->send(relay, http_request{"GET", path, {}, {}, true},
               responder_ptr{rp});
    run();
    return rp;
  }
};

TEST_F(http_relay_test, hands_the_reply_over_unchanged) {
  auto handler = sys.spawn(echo_handler, uint16_t{201});
  auto relay = sys.spawn(http_relay, handler);
  auto rp = send(relay, "/api/v1/events");
  ASSERT_TRUE(rp->response);
  EXPECT_EQ(rp->response->status, 201);
  EXPECT_EQ(rp->response->headers["x-path"], "/api/v1/events");
  EXPECT_EQ(rp->response->body, R"({"method":"GET"})");
  self->send_exit(relay, caf::exit_reason::user_shutdown);
  self->send_exit(handler, caf::exit_reason::user_shutdown);
  run();
}

TEST_F(http_relay_test, a_stopped_handler_is_a_503) {
  auto handler = sys.spawn(echo_handler, uint16_t{201});
  auto relay = sys.spawn(http_relay, handler);
  self->send_exit(handler, caf::exit_reason::user_shutdown);
  run();
  auto rp = send(relay, "/health");
  ASSERT_TRUE(rp->response);
  EXPECT_EQ(rp->response->status, 503);
  self->send_exit(relay, caf::exit_reason::user_shutdown);
  run();
}

} // namespace
} // namespace kws
