#include "rest/connection_book.hpp"

#include "rest/routes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace kws::rest;

TEST(connection_book_test, a_client_beyond_its_share_may_only_probe) {
  connection_book book{connection_limits{10, 2, 4, 1}};
  EXPECT_EQ(book.open("a").how, admission::full);
  auto second = book.open("a");
  EXPECT_EQ(second.how, admission::full);
  EXPECT_EQ(book.open("a").how, admission::probes_only);
  // Its share of the probe reserve is taken too.
  EXPECT_EQ(book.open("a").how, admission::refused);
  // Others are served in full all the same.
  EXPECT_EQ(book.open("b").how, admission::full);
  EXPECT_EQ(book.full(), 3U);
  EXPECT_EQ(book.full_from("a"), 2U);
  book.close(second.id);
  EXPECT_EQ(book.open("a").how, admission::full);
}

TEST(connection_book_test, beyond_the_total_only_probes_fit_then_nothing) {
  connection_book book{connection_limits{2, 10, 3, 2}};
  auto a = book.open("a");
  EXPECT_EQ(a.how, admission::full);
  EXPECT_EQ(book.open("b").how, admission::full);
  auto c = book.open("c");
  EXPECT_EQ(c.how, admission::probes_only);
  EXPECT_EQ(book.open("c").how, admission::probes_only);
  EXPECT_EQ(book.open("d").how, admission::probes_only);
  EXPECT_EQ(book.open("e").how, admission::refused);
  book.close(c.id);
  EXPECT_EQ(book.open("e").how, admission::probes_only);
  book.close(a.id);
  EXPECT_EQ(book.open("e").how, admission::full);
  EXPECT_EQ(book.full_from("e"), 1U);
}

TEST(connection_book_test, closing_forgets_a_client) {
  connection_book book{connection_limits{4, 1, 1, 1}};
  auto place = book.open("a");
  EXPECT_EQ(place.how, admission::full);
  book.close(place.id);
  EXPECT_EQ(book.full(), 0U);
  EXPECT_EQ(book.full_from("a"), 0U);
  // A refused connection holds nothing.
  connection_book none{connection_limits{0, 0, 0, 0}};
  auto refused = none.open("a");
  EXPECT_EQ(refused.how, admission::refused);
  EXPECT_EQ(refused.id, 0U);
  none.close(refused.id);
  EXPECT_EQ(none.full(), 0U);
}

TEST(connection_book_test, probe_paths) {
  // The probes the server answers itself, /healthz included: a probe the
  // server answers on its own must also get through when it is full.
  for (const char* p : {"/health", "/healthz", "/livez", "/readyz"})
    EXPECT_TRUE(is_probe_path(p)) << p;
  for (const char* p : {"/", "/api/v1/events", "/healthz/", "/health/"})
    EXPECT_FALSE(is_probe_path(p)) << p;
}

namespace {

/// A book whose idle connections record their eviction in `evicted`.
struct eviction_test : ::testing::Test {
  connection_book book{connection_limits{4, 3, 2, 1}};
  std::vector<std::string> evicted;

  /// Opens a connection from `client` and lets it idle as `name`.
  connection_place idle(const std::string& client, const std::string& name) {
    auto place = book.open(client);
    book.idle(place.id, [this, name] { evicted.push_back(name); });
    return place;
  }
};

} // namespace

TEST_F(eviction_test, a_full_book_makes_room_from_the_client_holding_most) {
  idle("a", "a1");
  idle("b", "b1");
  idle("b", "b2");
  idle("b", "b3");
  // The book is full: a newcomer takes b's place idle longest.
  auto probe = book.open("kubelet");
  EXPECT_EQ(probe.how, admission::full);
  EXPECT_EQ(evicted, (std::vector<std::string>{"b1"}));
  // b still holds the most.
  EXPECT_EQ(book.open("c").how, admission::full);
  EXPECT_EQ(evicted, (std::vector<std::string>{"b1", "b2"}));
  // b and a hold as many now: the connection idle longer goes.
  EXPECT_EQ(book.open("d").how, admission::full);
  EXPECT_EQ(evicted, (std::vector<std::string>{"b1", "b2", "a1"}));
  auto counts = book.counts();
  EXPECT_EQ(counts.full, 4U);
  EXPECT_EQ(counts.idle, 1U);
  EXPECT_EQ(counts.evicted, 3U);
  EXPECT_EQ(book.full_from("a"), 0U);
  EXPECT_EQ(book.full_from("b"), 1U);
}

TEST_F(eviction_test, busy_connections_never_give_way) {
  auto a1 = idle("a", "a1");
  auto a2 = idle("a", "a2");
  idle("b", "b1");
  auto b2 = book.open("b"); // never idle: reading its first request
  // a's first connection is reading a request, its second answers one.
  EXPECT_TRUE(book.busy(a1.id));
  EXPECT_TRUE(book.busy(a2.id));
  EXPECT_EQ(book.open("c").how, admission::full);
  EXPECT_EQ(evicted, (std::vector<std::string>{"b1"}));
  // Nothing idle is left: the probe reserve takes the next ones.
  EXPECT_EQ(book.open("d").how, admission::probes_only);
  EXPECT_EQ(evicted.size(), 1U);
  // a's second connection waits for its next request again.
  book.idle(a2.id, [this] { evicted.emplace_back("a2 again"); });
  EXPECT_EQ(book.open("e").how, admission::full);
  EXPECT_EQ(evicted, (std::vector<std::string>{"b1", "a2 again"}));
  book.close(b2.id);
  EXPECT_EQ(book.counts().full, 3U);
}

TEST_F(eviction_test, an_evicted_connection_is_told_and_holds_nothing) {
  auto a1 = idle("a", "a1");
  idle("b", "b1");
  idle("c", "c1");
  idle("d", "d1");
  EXPECT_EQ(book.open("e").how, admission::full);
  ASSERT_EQ(evicted, (std::vector<std::string>{"a1"}));
  // Its bytes arrived while it was evicted: it must close.
  EXPECT_FALSE(book.busy(a1.id));
  book.idle(a1.id, [this] { evicted.emplace_back("a1 again"); });
  book.close(a1.id);
  auto counts = book.counts();
  EXPECT_EQ(counts.full, 4U);
  EXPECT_EQ(counts.idle, 3U);
  EXPECT_EQ(book.full_from("a"), 0U);
  EXPECT_EQ(book.full_from("e"), 1U);
}

TEST_F(eviction_test, a_client_over_its_own_share_makes_no_room) {
  idle("a", "a1");
  idle("a", "a2");
  idle("a", "a3");
  idle("b", "b1");
  // a holds its share: it may probe, but no connection gives way for it.
  auto over = book.open("a");
  EXPECT_EQ(over.how, admission::probes_only);
  book.idle(over.id, [this] { evicted.emplace_back("a probe"); });
  EXPECT_EQ(book.open("a").how, admission::refused);
  EXPECT_TRUE(evicted.empty());
}

TEST_F(eviction_test, the_probe_reserve_makes_room_from_idle_probes) {
  auto place = [&](const std::string& client) {
    auto p = book.open(client);
    book.busy(p.id);
    return p;
  };
  for (const char* client : {"a", "b", "c", "d"})
    EXPECT_EQ(place(client).how, admission::full);
  // Every full place is busy; the reserve (one per client) fills.
  auto e = book.open("e");
  EXPECT_EQ(e.how, admission::probes_only);
  book.idle(e.id, [this] { evicted.emplace_back("e"); });
  EXPECT_EQ(place("f").how, admission::probes_only);
  // A probe from elsewhere takes the idle probe's place, not the busy one's.
  EXPECT_EQ(book.open("kubelet").how, admission::probes_only);
  EXPECT_EQ(evicted, (std::vector<std::string>{"e"}));
  EXPECT_EQ(book.open("g").how, admission::refused);
  auto counts = book.counts();
  EXPECT_EQ(counts.probes_only, 2U);
  EXPECT_EQ(counts.idle, 0U);
}
