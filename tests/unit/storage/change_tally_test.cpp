// /changes tallies each object of the window: every record counted once
// for its own object (same names in two namespaces stay apart), the
// filters applied per object, Event objects left out unless asked for, and
// the pages of one ranking cover it exactly once, even while records
// arrive. Each test runs on a store with the per-object tallies kept at
// ingest and on one written before them (its partitions are walked entry
// by entry, and its type entries do not name the records' objects), and
// both must agree.
#include "raw_db.hpp"
#include "storage/index_entry.hpp"
#include "storage/key_codec.hpp"
#include "storage/rocks_store.hpp"
#include "store_fixture.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rocksdb/write_batch.h>

#include <map>
#include <optional>
#include <tuple>

namespace kws::storage {
namespace {

using json = nlohmann::json;
using test::make_event;

constexpr int64_t sec = 1'000'000'000;
constexpr int64_t day0 = int64_t{20'000} * 86'400 * sec;

constexpr int64_t day = int64_t{86'400} * sec;

/// Whether the store keeps tallies, or was written before them.
enum class store_kind { with_tallies, before_tallies };

class change_tally_test : public test::store_fixture,
                          public testing::WithParamInterface<store_kind> {
protected:
  change_tally_test() : store_fixture(day0 + 3600 * sec) {}

  void SetUp() override {
    store_fixture::SetUp();
    if (HasFatalFailure())
      return;
    int t = 0;
    auto add = [&](verb v, const char* ns, const char* type, const char* name) {
      auto uid = std::string{ns} + "/" + type + "/" + name;
      ++t;
      events_.push_back(make_event(day0 + t * sec, v, ns, type, name, uid,
                                   std::to_string(100 + t)));
    };
    add(verb::create, "shop", "configmaps", "a");
    add(verb::create, "shop", "configmaps", "b");
    add(verb::create, "other", "configmaps", "a");
    for (int i = 0; i < 3; ++i)
      add(verb::update, "shop", "configmaps", "a");
    add(verb::update, "shop", "deployments", "web");
    add(verb::remove, "shop", "configmaps", "b");
    add(verb::update, "other", "configmaps", "a");
    // Events about shop's a (a Warning and a Normal) and other's a.
    for (auto [name, ns, warning] :
         {std::tuple{"a.1", "shop", true}, std::tuple{"a.2", "shop", false},
          std::tuple{"a.3", "other", true}}) {
      add(verb::create, ns, "events", name);
      events_.back().link_ns = ns;
      events_.back().link_resource = "configmaps";
      events_.back().link_name = "a";
      events_.back().warning = warning;
    }
    auto res = store_->write(events_, {});
    ASSERT_TRUE(res) << render(res.error());
    if (GetParam() == store_kind::before_tallies)
      strip_tallies();
  }

  /// Turns the store into one written before tallies: its partitions lose
  /// them and meta forgets since when they are kept; reopened.
  void strip_tallies() {
    store_.reset();
    {
      test::raw_db db{(dir_ / "db").string()};
      auto* part = db.family(partition_name(day_index(day0)));
      ASSERT_NE(part, nullptr);
      rocksdb::WriteBatch wb;
      ASSERT_TRUE(wb.DeleteRange(part, "c", "d").ok());
      // Nor did its type entries name the records' objects: they held the
      // verb and the group.
      std::unique_ptr<rocksdb::Iterator> it{db.db().NewIterator({}, part)};
      for (it->Seek("t"); it->Valid() && it->key().starts_with("t");
           it->Next()) {
        auto entry = decode_index_entry(it->key().ToStringView(),
                                        it->value().ToStringView());
        ASSERT_TRUE(entry) << render(entry.error());
        std::string narrow{'\x02', encode_verb_byte(*entry), '\x00', '\x04'};
        append_length_prefixed(narrow, entry->group);
        ASSERT_TRUE(wb.Put(part, it->key(), narrow).ok());
      }
      ASSERT_TRUE(wb.Delete(db.family("meta"), "t").ok());
      ASSERT_TRUE(wb.Delete(db.family("meta"), "y").ok());
      ASSERT_TRUE(db.db().Write({}, &wb).ok());
    }
    open_store();
  }

  /// `ns/type/name` → verbs of every entry of `q`, page after page (and
  /// its Events by type into `events`).
  std::map<std::string, json> tally(changes_query q, size_t& pages) {
    std::map<std::string, json> out;
    pages = 0;
    for (int guard = 0; guard < 20; ++guard) {
      auto a = store_->changes(q);
      EXPECT_TRUE(a) << render(a.error());
      if (!a)
        break;
      ++pages;
      for (const auto& e : json::parse(a->body)) {
        auto key = e["namespace"].get<std::string>() + "/"
          + e["resourceType"].get<std::string>() + "/"
          + e["resourceName"].get<std::string>();
        EXPECT_EQ(out.count(key), 0u) << key << " on two pages";
        out[key] = e["verbs"];
        events[key] = e["events"];
      }
      if (!a->has_more)
        break;
      q.window.continue_token = a->continue_token;
    }
    return out;
  }

  std::vector<resource_event> events_;
  std::map<std::string, json> events;
};

json verbs(int creates, int updates, int deletes) {
  return {{"create", creates}, {"update", updates}, {"delete", deletes}};
}

TEST_P(change_tally_test, every_record_counts_once_for_its_own_object) {
  size_t pages = 0;
  auto all = tally(changes_query{}, pages);
  EXPECT_EQ(pages, 1u);
  std::map<std::string, json> expected{
    {"shop/configmaps/a", verbs(1, 3, 0)},
    {"shop/configmaps/b", verbs(1, 0, 1)},
    {"other/configmaps/a", verbs(1, 1, 0)},
    {"shop/deployments/web", verbs(0, 1, 0)},
  };
  EXPECT_EQ(all, expected);
  EXPECT_EQ(events["shop/configmaps/a"]["Warning"], 1);
  EXPECT_EQ(events["shop/configmaps/a"]["Normal"], 1);
  EXPECT_EQ(events["other/configmaps/a"]["Warning"], 1);
  EXPECT_EQ(events["other/configmaps/a"]["Normal"], 0);
  EXPECT_EQ(events["shop/configmaps/b"]["Warning"], 0);
}

TEST_P(change_tally_test, the_filters_apply_to_each_object) {
  size_t pages = 0;
  changes_query q;
  q.window.ns = "other";
  EXPECT_EQ(
    tally(q, pages),
    (std::map<std::string, json>{{"other/configmaps/a", verbs(1, 1, 0)}}));
  q = {};
  q.window.group = "apps";
  EXPECT_EQ(
    tally(q, pages),
    (std::map<std::string, json>{{"shop/deployments/web", verbs(0, 1, 0)}}));
  q = {};
  q.window.resource = "events";
  EXPECT_EQ(
    tally(q, pages),
    (std::map<std::string, json>{{"shop/events/a.1", verbs(1, 0, 0)},
                                 {"shop/events/a.2", verbs(1, 0, 0)},
                                 {"other/events/a.3", verbs(1, 0, 0)}}));
}

TEST_P(change_tally_test, pages_of_one_ranking_cover_every_object_once) {
  size_t pages = 0;
  changes_query q;
  q.window.limit = 1;
  auto all = tally(q, pages);
  EXPECT_EQ(pages, 4u);
  EXPECT_EQ(all.size(), 4u);
  EXPECT_EQ(all["shop/configmaps/a"], verbs(1, 3, 0));
}

TEST_P(change_tally_test, verify_finds_the_tallies_consistent) {
  auto report = store_->verify();
  ASSERT_TRUE(report) << render(report.error());
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  // One per object with records: three ConfigMaps (b deleted still
  // counts), a Deployment and three Events.
  EXPECT_EQ(report->tallies, GetParam() == store_kind::with_tallies ? 7u : 0u);
}

TEST_P(change_tally_test, records_written_between_pages_do_not_count) {
  changes_query q;
  q.window.limit = 1;
  auto first = store_->changes(q);
  ASSERT_TRUE(first) << render(first.error());
  ASSERT_TRUE(first->has_more);
  // More of web and of shop's a, and a Warning about other's a, after page
  // one: the later pages still count the records page one saw.
  std::vector<resource_event> later;
  for (int i = 0; i < 5; ++i)
    later.push_back(make_event(day0 + (100 + i) * sec, verb::update, "shop",
                               "deployments", "web", "shop/deployments/web",
                               std::to_string(900 + i)));
  later.push_back(make_event(day0 + 110 * sec, verb::update, "shop",
                             "configmaps", "a", "shop/configmaps/a", "950"));
  later.push_back(make_event(day0 + 111 * sec, verb::create, "other", "events",
                             "a.9", "other/events/a.9", "951"));
  later.back().link_ns = "other";
  later.back().link_resource = "configmaps";
  later.back().link_name = "a";
  later.back().warning = true;
  auto res = store_->write(later, {});
  ASSERT_TRUE(res) << render(res.error());
  size_t pages = 0;
  q.window.continue_token = first->continue_token;
  auto rest = tally(q, pages);
  for (const auto& e : json::parse(first->body))
    rest[e["namespace"].get<std::string>() + "/"
         + e["resourceType"].get<std::string>() + "/"
         + e["resourceName"].get<std::string>()]
      = e["verbs"];
  EXPECT_EQ(rest,
            (std::map<std::string, json>{
              {"shop/configmaps/a", verbs(1, 3, 0)},
              {"shop/configmaps/b", verbs(1, 0, 1)},
              {"other/configmaps/a", verbs(1, 1, 0)},
              {"shop/deployments/web", verbs(0, 1, 0)},
            }));
  if (events.contains("other/configmaps/a")) {
    EXPECT_EQ(events["other/configmaps/a"]["Warning"], 1);
  }
  // A new first page sees them.
  auto now = tally(changes_query{}, pages);
  EXPECT_EQ(now["shop/deployments/web"], verbs(0, 6, 0));
  EXPECT_EQ(events["other/configmaps/a"]["Warning"], 2);
}

/// A day written after the upgrade has tallies; a day before it stays
/// without and is walked; a window over both counts each record once.
TEST_P(change_tally_test, days_before_and_after_the_upgrade_add_up) {
  ASSERT_TRUE(store_);
  now_ns_ = day0 + day + 3600 * sec;
  auto res
    = store_->write({make_event(day0 + day + 60 * sec, verb::update, "shop",
                                "configmaps", "a", "shop/configmaps/a", "900")},
                    {});
  ASSERT_TRUE(res) << render(res.error());
  size_t pages = 0;
  auto all = tally(changes_query{}, pages);
  EXPECT_EQ(all["shop/configmaps/a"], verbs(1, 4, 0));
  EXPECT_EQ(all["shop/configmaps/b"], verbs(1, 0, 1));
  EXPECT_EQ(events["shop/configmaps/a"]["Warning"], 1);
  auto report = store_->verify();
  ASSERT_TRUE(report) << render(report.error());
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->tallies, GetParam() == store_kind::with_tallies ? 8u : 1u);
}

/// The first day read gives its objects their places; the Events of the
/// next day find them there, and the next day's own objects join them.
TEST_P(change_tally_test, events_of_a_later_day_count_for_earlier_objects) {
  ASSERT_TRUE(store_);
  now_ns_ = day0 + day + 3600 * sec;
  std::vector<resource_event> later;
  auto event_about = [&](const char* ns, const char* type, const char* object,
                         const char* name, bool warning) {
    later.push_back(make_event(day0 + day + (60 + later.size()) * sec,
                               verb::create, ns, "events", name,
                               std::string{ns} + "/events/" + name, "901"));
    later.back().link_ns = ns;
    later.back().link_resource = type;
    later.back().link_name = object;
    later.back().warning = warning;
  };
  event_about("other", "configmaps", "a", "a.4", true);
  event_about("shop", "deployments", "web", "web.1", false);
  later.push_back(make_event(day0 + day + 90 * sec, verb::create, "shop",
                             "configmaps", "c", "shop/configmaps/c", "902"));
  auto res = store_->write(later, {});
  ASSERT_TRUE(res) << render(res.error());
  size_t pages = 0;
  auto all = tally(changes_query{}, pages);
  EXPECT_EQ(all,
            (std::map<std::string, json>{
              {"shop/configmaps/a", verbs(1, 3, 0)},
              {"shop/configmaps/b", verbs(1, 0, 1)},
              {"shop/configmaps/c", verbs(1, 0, 0)},
              {"other/configmaps/a", verbs(1, 1, 0)},
              {"shop/deployments/web", verbs(0, 1, 0)},
            }));
  EXPECT_EQ(events["other/configmaps/a"]["Warning"], 2);
  EXPECT_EQ(events["shop/configmaps/a"]["Warning"], 1);
  EXPECT_EQ(events["shop/configmaps/a"]["Normal"], 1);
  EXPECT_EQ(events["shop/deployments/web"]["Normal"], 1);
  EXPECT_EQ(events["shop/configmaps/c"]["Warning"], 0);
  // Page by page, one entry each, the same objects once each.
  changes_query one;
  one.window.limit = 1;
  EXPECT_EQ(tally(one, pages), all);
  EXPECT_EQ(pages, all.size());
}

/// A window inside the day counts what it holds: over every namespace
/// from the type entries (in a store that has them), by type, and the
/// Events about an object of the type even when they are not asked for.
TEST_P(change_tally_test, a_window_inside_the_day_counts_what_it_holds) {
  ASSERT_TRUE(store_);
  changes_query q;
  q.window.start_ns = day0 + 4 * sec;
  q.window.end_ns = day0 + 11 * sec;
  size_t pages = 0;
  auto all = tally(q, pages);
  EXPECT_EQ(all,
            (std::map<std::string, json>{
              {"shop/configmaps/a", verbs(0, 3, 0)},
              {"shop/configmaps/b", verbs(0, 0, 1)},
              {"other/configmaps/a", verbs(0, 1, 0)},
              {"shop/deployments/web", verbs(0, 1, 0)},
            }));
  EXPECT_EQ(events["shop/configmaps/a"]["Warning"], 1);
  EXPECT_EQ(events["shop/configmaps/a"]["Normal"], 1);
  // The Warning about other's a came at 12 s, after the window.
  EXPECT_EQ(events["other/configmaps/a"]["Warning"], 0);
  q.window.resource = "configmaps";
  auto configmaps = tally(q, pages);
  all.erase("shop/deployments/web");
  EXPECT_EQ(configmaps, all);
  EXPECT_EQ(events["shop/configmaps/a"]["Warning"], 1);
  q.window.resource = "events";
  EXPECT_EQ(tally(q, pages),
            (std::map<std::string, json>{
              {"shop/events/a.1", verbs(1, 0, 0)},
              {"shop/events/a.2", verbs(1, 0, 0)},
            }));
}

/// A caller who may not read the Events of a namespace is shown none
/// counted there, whether the day is read from its tallies, its type
/// entries or its object and link entries.
TEST_P(change_tally_test, events_a_caller_may_not_read_do_not_count) {
  ASSERT_TRUE(store_);
  for (int64_t start : {int64_t{0}, day0 + 4 * sec}) {
    SCOPED_TRACE(start == 0 ? "the whole day" : "a part of the day");
    changes_query q;
    q.window.start_ns = start;
    q.window.access.everything = false;
    q.window.access.cluster_types = {"configmaps"};
    size_t pages = 0;
    auto all = tally(q, pages);
    EXPECT_EQ(all.size(), 3u);
    EXPECT_EQ(events["shop/configmaps/a"]["Warning"], 0);
    EXPECT_EQ(events["shop/configmaps/a"]["Normal"], 0);
    EXPECT_EQ(events["other/configmaps/a"]["Warning"], 0);
    q.window.access.namespace_types = {"shop/events"};
    all = tally(q, pages);
    EXPECT_EQ(events["shop/configmaps/a"]["Warning"], 1);
    EXPECT_EQ(events["shop/configmaps/a"]["Normal"], 1);
    EXPECT_EQ(events["other/configmaps/a"]["Warning"], 0);
  }
}

/// The Event objects of a namespace are one run of keys that a summary
/// not asking for Events seeks past: the types after them still count.
TEST_P(change_tally_test, types_after_the_events_of_a_namespace_count) {
  ASSERT_TRUE(store_);
  std::vector<resource_event> later;
  for (auto [ns, type, name] :
       {std::tuple{"shop", "pods", "p"}, std::tuple{"shop", "services", "s"},
        std::tuple{"other", "pods", "q"}}) {
    later.push_back(
      make_event(day0 + (20 + later.size()) * sec, verb::create, ns, type, name,
                 std::string{ns} + "/" + type + "/" + name, "950"));
  }
  auto res = store_->write(later, {});
  ASSERT_TRUE(res) << render(res.error());
  size_t pages = 0;
  auto all = tally(changes_query{}, pages);
  EXPECT_EQ(all.size(), 7u);
  EXPECT_EQ(all["shop/pods/p"], verbs(1, 0, 0));
  EXPECT_EQ(all["shop/services/s"], verbs(1, 0, 0));
  EXPECT_EQ(all["other/pods/q"], verbs(1, 0, 0));
  // In one namespace, over a part of the day (its object entries).
  changes_query shop;
  shop.window.ns = "shop";
  shop.window.start_ns = day0 + 5 * sec;
  shop.window.end_ns = day0 + 30 * sec;
  EXPECT_EQ(tally(shop, pages),
            (std::map<std::string, json>{
              {"shop/configmaps/a", verbs(0, 2, 0)},
              {"shop/configmaps/b", verbs(0, 0, 1)},
              {"shop/deployments/web", verbs(0, 1, 0)},
              {"shop/pods/p", verbs(1, 0, 0)},
              {"shop/services/s", verbs(1, 0, 0)},
            }));
}

std::string kind_name(const testing::TestParamInfo<store_kind>& info) {
  return info.param == store_kind::with_tallies ? "with_tallies"
                                                : "before_tallies";
}

INSTANTIATE_TEST_SUITE_P(stores, change_tally_test,
                         testing::Values(store_kind::with_tallies,
                                         store_kind::before_tallies),
                         kind_name);

} // namespace
} // namespace kws::storage
