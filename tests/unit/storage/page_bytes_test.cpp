// /events pages stop at 8 MiB of records (then has_more and a token that
// resumes after the last record given), on both walks: the time index
// (no filter) and an index walk (a namespace), whose records' sizes are
// known only once read.
#include "storage/rocks_store.hpp"
#include "store_fixture.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <optional>

namespace kws::storage {
namespace {

using test::make_event;

constexpr int64_t sec = 1'000'000'000;
constexpr int64_t day0 = int64_t{20'000} * 86'400 * sec;
constexpr size_t page_cap = size_t{8} << 20;

class page_bytes_test : public test::store_fixture {
protected:
  page_bytes_test() : store_fixture(day0 + 3600 * sec) {}

  /// `n` creates of about 1.5 MiB each, in namespace `ns`.
  void write_big(int n, const std::string& ns) {
    std::vector<resource_event> events;
    for (int i = 0; i < n; ++i) {
      auto ev = make_event(day0 + (i + 1) * sec, verb::create, ns, "configmaps",
                           "big-" + std::to_string(i),
                           "uid-" + std::to_string(i), std::to_string(100 + i));
      ev.record.pop_back();
      ev.record += ",\"pad\":\"" + std::string(size_t{3} << 19U, 'x') + "\"}";
      events.push_back(std::move(ev));
    }
    auto res = store_->write(events, {});
    ASSERT_TRUE(res) << render(res.error());
  }

  /// Names of every record of `q`, page by page; checks each page's size.
  std::vector<std::string> all_pages(event_query q, size_t& pages) {
    std::vector<std::string> names;
    pages = 0;
    for (int guard = 0; guard < 100; ++guard) {
      auto page = store_->query(q);
      EXPECT_TRUE(page) << render(page.error());
      if (!page)
        break;
      ++pages;
      size_t bytes = 0;
      for (const auto& r : page->records) {
        bytes += r.size();
        rapidjson::Document doc;
        doc.Parse(r.data(), r.size());
        names.emplace_back(doc["resourceName"].GetString());
      }
      EXPECT_FALSE(page->records.empty());
      // A record larger than a page goes out alone.
      if (page->records.size() > 1) {
        EXPECT_LE(bytes, page_cap);
      }
      if (!page->has_more)
        break;
      EXPECT_FALSE(page->continue_token.empty());
      q.continue_token = page->continue_token;
    }
    return names;
  }
};

std::vector<std::string> expected_names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back("big-" + std::to_string(i));
  return out;
}

TEST_F(page_bytes_test, a_time_walk_stops_at_eight_mib_and_resumes) {
  write_big(12, "shop");
  event_query q;
  q.limit = 100;
  size_t pages = 0;
  EXPECT_EQ(all_pages(q, pages), expected_names(12));
  EXPECT_EQ(pages, 3u) << "5 records of 1.5 MiB fit a page";
}

TEST_F(page_bytes_test, an_index_walk_stops_at_eight_mib_and_resumes) {
  write_big(12, "shop");
  write_big(1, "other");
  event_query q;
  q.limit = 100;
  q.ns = "shop";
  size_t pages = 0;
  EXPECT_EQ(all_pages(q, pages), expected_names(12));
  EXPECT_EQ(pages, 3u);
}

TEST_F(page_bytes_test, a_record_larger_than_a_page_still_goes_out_alone) {
  std::vector<resource_event> events;
  auto ev = make_event(day0 + sec, verb::create, "shop", "configmaps", "huge",
                       "uid-h", "1");
  ev.record.pop_back();
  ev.record += ",\"pad\":\"" + std::string(page_cap + 1, 'x') + "\"}";
  events.push_back(ev);
  ASSERT_TRUE(store_->write(events, {}));
  write_big(1, "shop");
  event_query q;
  q.limit = 100;
  size_t pages = 0;
  auto names = all_pages(q, pages);
  EXPECT_EQ(names, (std::vector<std::string>{"huge", "big-0"}));
  EXPECT_EQ(pages, 2u);
}

} // namespace
} // namespace kws::storage
