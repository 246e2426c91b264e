#include "rest/connection_book.hpp"

#include <gtest/gtest.h>

using namespace kws::rest;

TEST(connection_book_test, a_client_beyond_its_share_may_only_probe) {
  connection_book book{connection_limits{10, 2, 4, 1}};
  EXPECT_EQ(book.open("a"), admission::full);
  EXPECT_EQ(book.open("a"), admission::full);
  EXPECT_EQ(book.open("a"), admission::probes_only);
  // Its share of the probe reserve is taken too.
  EXPECT_EQ(book.open("a"), admission::refused);
  // Others are served in full all the same.
  EXPECT_EQ(book.open("b"), admission::full);
  EXPECT_EQ(book.full(), 3U);
  EXPECT_EQ(book.full_from("a"), 2U);
  book.close("a", admission::full);
  EXPECT_EQ(book.open("a"), admission::full);
}

TEST(connection_book_test, beyond_the_total_only_probes_fit_then_nothing) {
  connection_book book{connection_limits{2, 10, 3, 2}};
  EXPECT_EQ(book.open("a"), admission::full);
  EXPECT_EQ(book.open("b"), admission::full);
  EXPECT_EQ(book.open("c"), admission::probes_only);
  EXPECT_EQ(book.open("c"), admission::probes_only);
  EXPECT_EQ(book.open("d"), admission::probes_only);
  EXPECT_EQ(book.open("e"), admission::refused);
  book.close("c", admission::probes_only);
  EXPECT_EQ(book.open("e"), admission::probes_only);
  book.close("a", admission::full);
  EXPECT_EQ(book.open("e"), admission::full);
  EXPECT_EQ(book.full_from("e"), 1U);
}

TEST(connection_book_test, closing_forgets_a_client) {
  connection_book book{connection_limits{4, 1, 1, 1}};
  auto how = book.open("a");
  EXPECT_EQ(how, admission::full);
  book.close("a", how);
  EXPECT_EQ(book.full(), 0U);
  EXPECT_EQ(book.full_from("a"), 0U);
  // A refused connection holds nothing.
  connection_book none{connection_limits{0, 0, 0, 0}};
  EXPECT_EQ(none.open("a"), admission::refused);
  none.close("a", admission::refused);
  EXPECT_EQ(none.full(), 0U);
}

TEST(connection_book_test, probe_paths) {
  for (const char* p : {"/health", "/livez", "/readyz"})
    EXPECT_TRUE(is_probe_path(p)) << p;
  for (const char* p : {"/", "/api/v1/events", "/healthz", "/health/"})
    EXPECT_FALSE(is_probe_path(p)) << p;
}
