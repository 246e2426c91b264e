// The reflector's rules, one input at a time, without a server, a thread or
// a clock: each test feeds answers and reads the commands that come back.
#include "kube/reflector_machine.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kws::kube {
namespace {

using namespace std::chrono_literals;
using time_point = reflector_machine::time_point;

const resource_type pods{"", "v1", "Pod", "pods", true};

template <class T>
const T* first(const reflector_commands& xs) {
  for (const auto& x : xs)
    if (auto* p = std::get_if<T>(&x))
      return p;
  return nullptr;
}

template <class T>
size_t count(const reflector_commands& xs) {
  size_t n = 0;
  for (const auto& x : xs)
    n += std::holds_alternative<T>(x) ? 1 : 0;
  return n;
}

std::string pod(const std::string& name, int rv) {
  return fmt::format(
    R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{}","namespace":"ns","uid":"u-{}","resourceVersion":"{}"}}}})",
    name, name, rv);
}

response page(const std::vector<std::string>& items, const std::string& rv,
              const std::string& next = "") {
  response r;
  r.status = 200;
  r.body = fmt::format(
    R"({{"kind":"PodList","metadata":{{"resourceVersion":"{}","continue":"{}"}},"items":[{}]}})",
    rv, next, fmt::join(items, ","));
  return r;
}

response status(unsigned code, const std::string& reason,
                std::optional<std::chrono::seconds> retry_after = {}) {
  response r;
  r.status = code;
  r.body = fmt::format(R"({{"kind":"Status","reason":"{}","code":{}}})", reason,
                       code);
  r.retry_after = retry_after;
  return r;
}

response ok_head() {
  response r;
  r.status = 200;
  return r;
}

watch_event event(watch_event_type type, const std::string& rv) {
  watch_event e;
  e.type = type;
  e.resource_version = rv;
  e.object = pod("p", std::stoi(rv));
  return e;
}

watch_chunk read_of(std::vector<watch_event> events,
                    stream_state state = stream_state::open,
                    caf::error err = {}) {
  watch_chunk c;
  c.events = std::move(events);
  c.state = state;
  c.error = std::move(err);
  return c;
}

/// A machine and a clock the test moves.
struct machine_test : ::testing::Test {
  reflector_settings settings;
  time_point t0{std::chrono::hours{1000}};
  time_point now = t0;
  std::optional<reflector_machine> m;

  reflector_machine& make() {
    m.emplace(pods, "apiserver:6443/api/v1/pods", settings);
    return *m;
  }

  /// Lists `items` at `rv` in one page and acknowledges it: the machine is
  /// then watching from `rv`; returns the commands of the ack.
  reflector_commands listed(const std::vector<std::string>& items,
                            const std::string& rv) {
    auto out = m->start(now, "");
    auto* req = first<command::list_page>(out);
    EXPECT_NE(req, nullptr);
    out = m->page(now, req->gen, page(items, rv));
    EXPECT_NE(first<command::deliver_list>(out), nullptr);
    return m->ack(now);
  }

  /// Opens the watch the last commands asked for.
  reflector_commands opened(const reflector_commands& out) {
    auto* w = first<command::open_watch>(out);
    EXPECT_NE(w, nullptr);
    return m->opened(now, w ? w->gen : 0, ok_head());
  }
};

TEST_F(machine_test, a_fresh_start_lists_from_the_watch_cache_in_pages) {
  auto out = make().start(now, "");
  auto* req = first<command::list_page>(out);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->request.resource_version, "0");
  EXPECT_EQ(req->request.limit, 500u);
  EXPECT_EQ(req->request.continue_token, "");
  EXPECT_EQ(first<command::open_watch>(out), nullptr);
}

TEST_F(machine_test, a_resume_watches_from_the_checkpoint_with_bookmarks) {
  auto out = make().start(now, "4711");
  EXPECT_EQ(first<command::list_page>(out), nullptr);
  auto* w = first<command::open_watch>(out);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->request.resource_version, "4711");
  EXPECT_TRUE(w->request.bookmarks);
  EXPECT_GE(w->request.timeout, 300s);
  EXPECT_LT(w->request.timeout, 600s);
}

TEST_F(machine_test, pages_add_up_and_the_watch_waits_for_the_lists_ack) {
  auto out = make().start(now, "");
  auto gen = first<command::list_page>(out)->gen;
  out = m->page(now, gen, page({pod("a", 1), pod("b", 2)}, "10", "next-1"));
  auto* more = first<command::list_page>(out);
  ASSERT_NE(more, nullptr);
  EXPECT_EQ(more->request.continue_token, "next-1");
  EXPECT_EQ(more->request.resource_version, "");
  out = m->page(now, more->gen, page({pod("c", 3)}, "11"));
  auto* list = first<command::deliver_list>(out);
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->list.items.size(), 3u);
  EXPECT_EQ(list->list.resource_version, "11");
  EXPECT_EQ(first<command::open_watch>(out), nullptr)
    << "the watch began before the list was stored";
  out = m->ack(now);
  auto* w = first<command::open_watch>(out);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->request.resource_version, "11");
}

TEST_F(machine_test, an_expired_continue_token_lists_once_without_paging) {
  auto out = make().start(now, "");
  auto gen = first<command::list_page>(out)->gen;
  out = m->page(now, gen, page({pod("a", 1)}, "10", "next-1"));
  out = m->page(now, gen, status(410, "Expired"));
  auto* again = first<command::list_page>(out);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->request.limit, 0u);
  EXPECT_EQ(again->request.continue_token, "");
  EXPECT_EQ(again->request.resource_version, "0");
  EXPECT_EQ(count<command::report>(out), 0u);
  out = m->page(now, again->gen, page({pod("a", 1), pod("b", 2)}, "12"));
  auto* list = first<command::deliver_list>(out);
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->list.items.size(), 2u) << "the first page was kept";
}

TEST_F(machine_test, a_410_on_watch_relists_at_the_last_rv_then_consistently) {
  make();
  auto out = opened(listed({pod("a", 1)}, "20"));
  auto gen = m->generation();
  out = m->chunk(now, gen, read_of({event(watch_event_type::modified, "21")}));
  m->ack(now);
  // The stream is closed and the watch is refused with 410.
  now += 10min;
  out = m->chunk(now, gen, read_of({}, stream_state::closed));
  auto* w = first<command::open_watch>(out);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->request.resource_version, "21");
  EXPECT_EQ(first<command::wait>(out), nullptr) << "a clean end waited";
  out = m->opened(now, w->gen, status(410, "Expired"));
  ASSERT_EQ(count<command::report>(out), 1u);
  EXPECT_EQ(std::get<command::report>(out[1]).error, ec::gone);
  auto* wait = first<command::wait>(out);
  ASSERT_NE(wait, nullptr);
  out = m->timer(now + wait->delay, wait->gen);
  auto* list = first<command::list_page>(out);
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->request.resource_version, "21");
  EXPECT_EQ(list->request.limit, 0u) << "a list at an exact RV was paged";
  // That RV is gone too: at once a consistent list at "".
  out = m->page(now, list->gen, status(410, "Expired"));
  EXPECT_EQ(count<command::report>(out), 1u);
  EXPECT_EQ(first<command::wait>(out), nullptr);
  auto* consistent = first<command::list_page>(out);
  ASSERT_NE(consistent, nullptr);
  EXPECT_EQ(consistent->request.resource_version, "");
  EXPECT_EQ(consistent->request.limit, 500u);
}

TEST_F(machine_test, a_429_waits_as_long_as_retry_after_says) {
  auto out = make().start(now, "");
  out = m->page(now, first<command::list_page>(out)->gen,
                status(429, "TooManyRequests", 7s));
  auto* wait = first<command::wait>(out);
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(wait->delay, 7s);
  out = m->timer(now + 7s, wait->gen);
  EXPECT_NE(first<command::list_page>(out), nullptr);
}

TEST_F(machine_test, a_watch_refused_with_429_watches_again_without_a_list) {
  auto out = make().start(now, "30");
  out = m->opened(now, first<command::open_watch>(out)->gen,
                  status(429, "TooManyRequests", 3s));
  auto* wait = first<command::wait>(out);
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(wait->delay, 3s);
  out = m->timer(now + 3s, wait->gen);
  EXPECT_EQ(first<command::list_page>(out), nullptr);
  auto* w = first<command::open_watch>(out);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->request.resource_version, "30");
}

TEST_F(machine_test, a_refused_connection_backs_off_and_keeps_the_rv) {
  auto out = make().start(now, "30");
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 3; ++i) {
    auto gen = first<command::open_watch>(out)->gen;
    out = m->opened(now, gen,
                    caf::make_error(ec::transport_error, "connection refused"));
    auto* wait = first<command::wait>(out);
    ASSERT_NE(wait, nullptr);
    delays.push_back(wait->delay);
    now += wait->delay;
    out = m->timer(now, wait->gen);
    auto* w = first<command::open_watch>(out);
    ASSERT_NE(w, nullptr) << "a refused connection relisted";
    EXPECT_EQ(w->request.resource_version, "30");
  }
  // Base 800 ms doubling, each with up to 100 % jitter.
  EXPECT_GE(delays[0], 800ms);
  EXPECT_LT(delays[0], 1600ms);
  EXPECT_GE(delays[1], 1600ms);
  EXPECT_LT(delays[1], 3200ms);
  EXPECT_GE(delays[2], 3200ms);
  EXPECT_LT(delays[2], 6400ms);
}

TEST_F(machine_test, a_watch_that_ends_at_once_without_events_is_a_failure) {
  make();
  auto out = opened(listed({}, "5"));
  now += 200ms;
  out = m->chunk(now, m->generation(), read_of({}, stream_state::closed));
  EXPECT_EQ(count<command::report>(out), 1u);
  auto* wait = first<command::wait>(out);
  ASSERT_NE(wait, nullptr) << "a hot loop of watches";
  out = m->timer(now + wait->delay, wait->gen);
  EXPECT_NE(first<command::list_page>(out), nullptr);
}

TEST_F(machine_test, a_watch_ended_early_by_the_apiserver_is_told_and_resumed) {
  make();
  auto out = opened(listed({}, "5"));
  now += 60s;
  out = m->chunk(now, m->generation(),
                 read_of({event(watch_event_type::added, "6")},
                         stream_state::broken,
                         caf::make_error(ec::transport_error, "reset")));
  ASSERT_NE(first<command::deliver_events>(out), nullptr);
  auto* early = first<command::ended_early>(out);
  ASSERT_NE(early, nullptr);
  EXPECT_EQ(early->lived, 60s);
  EXPECT_EQ(early->resource_version, "6");
  EXPECT_EQ(count<command::report>(out), 1u);
  auto* w = first<command::open_watch>(out);
  ASSERT_NE(w, nullptr) << "a broken watch waited or relisted";
  EXPECT_EQ(w->request.resource_version, "6");
  EXPECT_EQ(m->counts().early_ends, 1u);
}

TEST_F(machine_test, bookmarks_advance_the_resume_version) {
  make();
  auto out = opened(listed({}, "5"));
  out = m->chunk(now, m->generation(),
                 read_of({event(watch_event_type::bookmark, "900")}));
  auto* d = first<command::deliver_events>(out);
  ASSERT_NE(d, nullptr)
    << "a bookmark was not delivered to move the checkpoint";
  m->ack(now);
  now += 10min;
  out = m->chunk(now, m->generation(), read_of({}, stream_state::closed));
  auto* w = first<command::open_watch>(out);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->request.resource_version, "900");
}

TEST_F(machine_test, error_events_relist_except_429_which_watches_again) {
  make();
  opened(listed({}, "5"));
  auto out = m->chunk(now, m->generation(),
                      read_of({event(watch_event_type::added, "6")},
                              stream_state::stopped,
                              caf::make_error(ec::gone, "ERROR 410")));
  EXPECT_NE(first<command::deliver_events>(out), nullptr)
    << "events before the ERROR line were dropped";
  EXPECT_NE(first<command::close_watch>(out), nullptr);
  auto* wait = first<command::wait>(out);
  ASSERT_NE(wait, nullptr);
  out = m->timer(now + wait->delay, wait->gen);
  auto* list = first<command::list_page>(out);
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->request.resource_version, "6");
  out = m->page(now, list->gen, page({}, "8"));
  // The events before the ERROR and then the list, confirmed in order.
  out = opened(m->ack(now, 2));
  out = m->chunk(now, m->generation(),
                 read_of({}, stream_state::stopped,
                         caf::make_error(ec::too_many_requests, "ERROR 429")));
  wait = first<command::wait>(out);
  ASSERT_NE(wait, nullptr);
  out = m->timer(now + wait->delay, wait->gen);
  EXPECT_EQ(first<command::list_page>(out), nullptr);
  EXPECT_NE(first<command::open_watch>(out), nullptr);
}

TEST_F(machine_test, the_stream_is_read_on_until_the_window_is_full) {
  settings.max_unacked_events = 3;
  make();
  auto out = opened(listed({}, "5"));
  EXPECT_NE(first<command::read_more>(out), nullptr);
  auto gen = m->generation();
  out = m->chunk(now, gen, read_of({event(watch_event_type::added, "6")}));
  EXPECT_NE(first<command::read_more>(out), nullptr)
    << "the reads stopped with room in the window";
  out = m->chunk(now, gen,
                 read_of({event(watch_event_type::added, "7"),
                          event(watch_event_type::added, "8")}));
  EXPECT_EQ(first<command::read_more>(out), nullptr)
    << "read on with a full window";
  // The first delivery is confirmed: 2 of 3 are out, there is room again.
  out = m->ack(now);
  EXPECT_NE(first<command::read_more>(out), nullptr);
}

TEST_F(machine_test, answers_of_an_abandoned_phase_are_ignored) {
  make();
  opened(listed({}, "5"));
  auto old = m->generation();
  auto out = m->chunk(
    now, old,
    read_of({}, stream_state::stopped, caf::make_error(ec::gone, "ERROR 410")));
  ASSERT_NE(first<command::wait>(out), nullptr);
  EXPECT_TRUE(
    m->chunk(now, old, read_of({event(watch_event_type::added, "9")})).empty());
  EXPECT_TRUE(m->opened(now, old, ok_head()).empty());
  EXPECT_TRUE(m->timer(now, old).empty());
}

TEST_F(machine_test,
       a_stopped_machine_closes_its_stream_and_does_nothing_more) {
  make();
  opened(listed({}, "5"));
  auto gen = m->generation();
  auto out = m->stop();
  EXPECT_NE(first<command::close_watch>(out), nullptr);
  EXPECT_TRUE(
    m->chunk(now, gen, read_of({event(watch_event_type::added, "6")})).empty());
  EXPECT_TRUE(m->ack(now).empty());
  EXPECT_TRUE(m->timer(now, m->generation()).empty());
}

TEST_F(machine_test, a_malformed_list_is_reported_and_listed_again) {
  auto out = make().start(now, "");
  response bad;
  bad.status = 200;
  bad.body = R"({"items":[{"metadata":)";
  out = m->page(now, first<command::list_page>(out)->gen, bad);
  ASSERT_EQ(count<command::report>(out), 1u);
  auto* wait = first<command::wait>(out);
  ASSERT_NE(wait, nullptr);
  out = m->timer(now + wait->delay, wait->gen);
  EXPECT_NE(first<command::list_page>(out), nullptr);
}

} // namespace
} // namespace kws::kube
