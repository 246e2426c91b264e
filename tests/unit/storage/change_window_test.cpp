// /changes over windows that take a part of a partition: a whole day, its
// last seconds, a stretch in the middle, before and after the day's files
// are flushed. However the store counts a partition (over every namespace
// its type entries in time order; in one namespace its object entries or
// its records in time order, whichever reads less), every answer equals a
// count made here from the events written.
#include "storage/rocks_store.hpp"
#include "store_fixture.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace kws::storage {
namespace {

using json = nlohmann::json;
using test::make_event;

constexpr int64_t sec = 1'000'000'000;
constexpr int64_t day0 = int64_t{20'000} * 86'400 * sec;

/// `ns/type/name` → {create, update, delete, Warning, Normal}.
using counts = std::map<std::string, std::vector<int>>;

class change_window_test : public test::store_fixture {
protected:
  change_window_test() : store_fixture(day0 + 3600 * sec) {}

  void SetUp() override {
    store_fixture::SetUp();
    if (HasFatalFailure())
      return;
    const char* names[] = {"x", "y", "z"};
    for (int batch = 0; batch < 6; ++batch) {
      std::vector<resource_event> events;
      for (int i = 1; i <= 100; ++i) {
        int t = batch * 100 + i;
        std::string name = names[t % 3];
        verb v = t <= 3 ? verb::create : verb::update;
        events.push_back(make_event(day0 + t * sec, v, "shop", "configmaps",
                                    name, "uid-" + name, std::to_string(t)));
        if (t % 40 == 0) {
          events.push_back(make_event(day0 + t * sec, verb::create, "shop",
                                      "events", "e" + std::to_string(t),
                                      "ev-" + std::to_string(t), "1"));
          events.back().link_ns = "shop";
          events.back().link_resource = "configmaps";
          events.back().link_name = name;
          events.back().warning = t % 80 == 0;
        }
      }
      auto res = store_->write(events, {});
      ASSERT_TRUE(res) << render(res.error());
      written_.insert(written_.end(), events.begin(), events.end());
    }
  }

  /// What the window [lo, hi] holds, counted from the events written.
  counts expected(int64_t lo, int64_t hi) const {
    counts out;
    std::map<std::string, std::vector<int>> events;
    for (const auto& ev : written_) {
      if (ev.timestamp_ns < lo || ev.timestamp_ns > hi)
        continue;
      if (ev.resource == "events") {
        auto& c = events["shop/configmaps/" + ev.link_name];
        c.resize(2);
        ++c[ev.warning ? 0 : 1];
        continue;
      }
      auto& c = out["shop/configmaps/" + ev.name];
      c.resize(5);
      ++c[ev.action == verb::create ? 0 : 1];
    }
    for (auto& [key, c] : out)
      if (auto it = events.find(key); it != events.end()) {
        c[3] = it->second[0];
        c[4] = it->second[1];
      }
    return out;
  }

  counts answered(int64_t lo, int64_t hi, const std::string& ns) const {
    changes_query q;
    q.window.start_ns = lo;
    q.window.end_ns = hi;
    q.window.ns = ns;
    auto a = store_->changes(q);
    EXPECT_TRUE(a) << render(a.error());
    counts out;
    if (!a)
      return out;
    for (const auto& e : json::parse(a->body))
      out[e["namespace"].get<std::string>() + "/"
          + e["resourceType"].get<std::string>() + "/"
          + e["resourceName"].get<std::string>()]
        = {e["verbs"]["create"].get<int>(), e["verbs"]["update"].get<int>(),
           e["verbs"]["delete"].get<int>(), e["events"]["Warning"].get<int>(),
           e["events"]["Normal"].get<int>()};
    return out;
  }

  void check_windows() {
    for (auto [lo, hi] : {std::pair{day0, day0 + 86'399 * sec},
                          std::pair{day0 + 591 * sec, day0 + 600 * sec},
                          std::pair{day0 + 200 * sec, day0 + 279 * sec},
                          std::pair{day0 + 80 * sec, day0 + 80 * sec}}) {
      SCOPED_TRACE(std::to_string((lo - day0) / sec) + "s to "
                   + std::to_string((hi - day0) / sec) + "s");
      EXPECT_EQ(answered(lo, hi, ""), expected(lo, hi));
      EXPECT_EQ(answered(lo, hi, "shop"), expected(lo, hi));
    }
  }

  std::vector<resource_event> written_;
};

TEST_F(change_window_test, every_window_counts_what_it_holds) {
  check_windows();
}

TEST_F(change_window_test, flushed_files_count_the_same) {
  ASSERT_FALSE(store_->flush());
  check_windows();
  // The day is over: the whole-day window is answered from the tallies.
  now_ns_ += 86'400 * sec;
  check_windows();
}

} // namespace
} // namespace kws::storage
