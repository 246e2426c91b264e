// A partition holds one `u` and one `o` entry per object, at its first
// record of the day, and its `h` entries hold the uid: a uid's or a name's
// records are walked in its objects' history runs. Partitions written
// before, with those entries for every record, are still read through them.
#include "raw_db.hpp"
#include "storage/index_entry.hpp"
#include "storage/record_builder.hpp"
#include "store_fixture.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;
using json = nlohmann::json;

namespace {

// 2026-11-26T00:00:00Z
constexpr int64_t day0 = 1'795'651'200'000'000'000;
constexpr int64_t sec = 1'000'000'000;
constexpr int64_t day = 86'400 * sec;

class object_entries_test : public store_fixture {
protected:
  object_entries_test() : store_fixture(day0 + 3600 * sec) {}

  /// Writes `events` as one batch; the ids of what was stored.
  std::vector<std::string> write(std::vector<resource_event> events) {
    auto res = store_->write(events, {});
    EXPECT_TRUE(res) << render(res.error());
    return res ? res->ids : std::vector<std::string>{};
  }

  /// Every id a query for `uid` answers, page after page of `limit`.
  std::vector<std::string> ids_of(const std::string& uid, uint32_t limit = 100,
                                  bool descending = false) {
    event_query q;
    q.uid = uid;
    q.limit = limit;
    q.descending = descending;
    return ids_of(q);
  }

  /// Every id `q` answers, page after page.
  std::vector<std::string> ids_of(event_query q) {
    std::vector<std::string> out;
    for (int guard = 0; guard < 50; ++guard) {
      auto page = store_->query(q);
      EXPECT_TRUE(page) << render(page.error());
      if (!page)
        break;
      for (const auto& r : page->records)
        out.push_back(json::parse(r)["id"].get<std::string>());
      if (!page->has_more)
        break;
      q.continue_token = page->continue_token;
    }
    return out;
  }

  /// The `tag` entries of `day`'s partition (the store closed, then opened
  /// again).
  size_t entries(int64_t ts, char tag = 'u') {
    store_.reset();
    size_t n = 0;
    {
      raw_db raw{(dir_ / "db").string()};
      n = raw.key_tags(partition_name(day_index(ts)))[tag];
    }
    open_store();
    return n;
  }

  void expect_consistent() {
    auto report = store_->verify();
    ASSERT_TRUE(report) << render(report.error());
    EXPECT_TRUE(report->problems.empty())
      << report->problems.size()
      << " problems, first: " << report->problems.front();
  }
};

std::vector<std::string>
joined(std::initializer_list<std::vector<std::string>> xs) {
  std::vector<std::string> out;
  for (const auto& x : xs)
    out.insert(out.end(), x.begin(), x.end());
  return out;
}

TEST_F(object_entries_test,
       an_object_has_one_entry_a_day_by_uid_and_name_and_both_find_it_all) {
  auto ev = [](int64_t t, verb v, const char* ns, const char* name,
               const char* uid, const char* rv) {
    return make_event(day0 + t * sec, v, ns, "pods", name, uid, rv);
  };
  auto first = write({ev(1, verb::create, "shop", "a", "ua", "1"),
                      ev(2, verb::create, "shop", "b", "ub", "2")});
  auto more = joined({write({ev(3, verb::update, "shop", "a", "ua", "3")}),
                      write({ev(4, verb::update, "shop", "a", "ua", "4"),
                             ev(5, verb::update, "shop", "a", "ua", "5")}),
                      write({ev(6, verb::remove, "shop", "a", "ua", "6")})});
  // The same name again, the same day: another object.
  auto again = write({ev(7, verb::create, "shop", "a", "ua2", "7"),
                      ev(8, verb::update, "shop", "a", "ua2", "8")});
  // The same name in another namespace.
  auto elsewhere
    = joined({write({ev(9, verb::create, "dev", "a", "ud", "9")}),
              write({ev(10, verb::update, "dev", "a", "ud", "10")})});
  ASSERT_EQ(first.size() + more.size() + again.size() + elsewhere.size(), 10u);
  EXPECT_EQ(entries(day0), 4u);
  // By name: shop's a, shop's a again (its own uid) and dev's a.
  EXPECT_EQ(entries(day0, 'o'), 4u);
  // The next day it has one there too.
  now_ns_ += day;
  auto next = write({make_event(day0 + day + sec, verb::update, "shop", "pods",
                                "a", "ua2", "11")});
  EXPECT_EQ(entries(day0 + day), 1u);
  EXPECT_EQ(entries(day0 + day, 'o'), 1u);

  auto ua = joined({{first[0]}, more});
  auto ua2 = joined({again, next});
  EXPECT_EQ(ids_of("ua"), ua);
  EXPECT_EQ(ids_of("ua2"), ua2);
  EXPECT_EQ(ids_of("ub"), std::vector<std::string>{first[1]});
  EXPECT_TRUE(ids_of("nobody").empty());
  // Page by page, and newest first.
  EXPECT_EQ(ids_of("ua", 1), ua);
  EXPECT_EQ(ids_of("ua2", 2), ua2);
  auto newest_first = ua2;
  std::reverse(newest_first.begin(), newest_first.end());
  EXPECT_EQ(ids_of("ua2", 1, true), newest_first);
  // Other filters still apply beside the uid.
  event_query q;
  q.uid = "ua";
  q.verb = "update";
  EXPECT_EQ(ids_of(q), (std::vector<std::string>{more[0], more[1], more[2]}));
  // A name without a namespace: every object of that name, in time order.
  q = event_query{};
  q.name = "a";
  auto named = joined({ua, again, elsewhere, next});
  EXPECT_EQ(ids_of(q), named);
  q.limit = 3;
  EXPECT_EQ(ids_of(q), named);
  q.descending = true;
  std::reverse(named.begin(), named.end());
  EXPECT_EQ(ids_of(q), named);
  q = event_query{};
  q.name = "b";
  EXPECT_EQ(ids_of(q), std::vector<std::string>{first[1]});
  q.name = "a";
  q.uid = "ud";
  EXPECT_EQ(ids_of(q), elsewhere);
  q.uid.clear();
  q.user = "nobody";
  EXPECT_TRUE(ids_of(q).empty());
  expect_consistent();
}

/// A minimal Deployment at `rv`; `status` is what a status heartbeat
/// changes.
resource_event deployment(verb v, const std::string& rv, int replicas,
                          int status, int64_t ts) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata",
             {{"name", "web"},
              {"namespace", "shop"},
              {"uid", "uid-web"},
              {"resourceVersion", rv},
              {"generation", replicas}}},
            {"spec", {{"replicas", replicas}}},
            {"status", {{"replicas", status}}}};
  record_options opts;
  opts.copy_object_text = true;
  auto ev = build_record(deployments(), v, d.dump(), ts, opts);
  EXPECT_TRUE(ev) << render(ev.error());
  ev->drop_if_status_only = v == verb::update;
  return *ev;
}

TEST_F(object_entries_test,
       a_dropped_heartbeat_leaves_the_days_entry_to_the_next) {
  auto created = write({deployment(verb::create, "1", 2, 0, day0 + sec)});
  ASSERT_EQ(created.size(), 1u);
  // The next day, its first change is a status heartbeat (not stored) and
  // the scale after it in the same batch is.
  now_ns_ += day;
  auto scaled
    = write({deployment(verb::update, "2", 2, 2, day0 + day + sec),
             deployment(verb::update, "3", 3, 2, day0 + day + 2 * sec)});
  ASSERT_EQ(scaled.size(), 1u);
  // The day after, the heartbeat and the scale come in two batches.
  now_ns_ += day;
  EXPECT_TRUE(
    write({deployment(verb::update, "4", 3, 3, day0 + 2 * day + sec)}).empty());
  auto rescaled
    = write({deployment(verb::update, "5", 4, 3, day0 + 2 * day + 2 * sec)});
  ASSERT_EQ(rescaled.size(), 1u);
  EXPECT_EQ(ids_of("uid-web"), joined({created, scaled, rescaled}));
  EXPECT_EQ(entries(day0 + day), 1u);
  EXPECT_EQ(entries(day0 + 2 * day), 1u);
  expect_consistent();
}

TEST_F(object_entries_test, a_missing_days_entry_is_a_problem_verify_names) {
  write(
    {make_event(day0 + sec, verb::create, "shop", "pods", "a", "ua", "1"),
     make_event(day0 + 2 * sec, verb::update, "shop", "pods", "a", "ua", "2")});
  expect_consistent();
  store_.reset();
  {
    raw_db raw{(dir_ / "db").string()};
    auto* part = raw.family(partition_name(day_index(day0)));
    ASSERT_NE(part, nullptr);
    rocksdb::WriteBatch wb;
    ASSERT_TRUE(wb.DeleteRange(part, "u", "v").ok());
    // The name's entry stays, of another object.
    auto o = index_prefix(index_kind::name, {"a"});
    std::unique_ptr<rocksdb::Iterator> it{
      raw.db().NewIterator(rocksdb::ReadOptions{}, part)};
    it->Seek(o);
    ASSERT_TRUE(it->Valid() && it->key().starts_with(o));
    record_summary other;
    other.ns = "dev";
    other.resource = "pods";
    ASSERT_TRUE(
      wb.Put(part, it->key(), encode_index_value(index_kind::name, other))
        .ok());
    it.reset();
    ASSERT_TRUE(raw.db().Write({}, &wb).ok());
  }
  open_store();
  auto report = store_->verify();
  ASSERT_TRUE(report) << render(report.error());
  for (std::string tag : {"u", "o"})
    EXPECT_EQ(std::count_if(report->problems.begin(), report->problems.end(),
                            [&](const std::string& p) {
                              return p.ends_with("lacks its '" + tag
                                                 + "' index entry");
                            }),
              2)
      << tag;
}

TEST_F(object_entries_test,
       a_partition_written_before_is_read_by_its_entries_of_every_record) {
  auto ev = [](int64_t t, verb v, const char* uid, const char* rv) {
    return make_event(t, v, "shop", "pods", "a", uid, rv);
  };
  auto before = joined({write({ev(day0 + sec, verb::create, "ua", "1")}),
                        write({ev(day0 + 2 * sec, verb::update, "ua", "2"),
                               ev(day0 + 3 * sec, verb::update, "ua", "3")}),
                        write({ev(day0 + 4 * sec, verb::remove, "ua", "4"),
                               ev(day0 + 5 * sec, verb::create, "ub", "5")})});
  ASSERT_EQ(before.size(), 5u);
  // Rewritten as code before wrote it: a `u` and an `o` entry per record,
  // `h` entries without the uid, and meta not knowing since when partitions
  // have one of each per object.
  store_.reset();
  {
    raw_db raw{(dir_ / "db").string()};
    auto* records = raw.family(records_name(day_index(day0)));
    auto* part = raw.family(partition_name(day_index(day0)));
    ASSERT_NE(part, nullptr);
    rocksdb::WriteBatch wb;
    ASSERT_TRUE(wb.DeleteRange(part, "u", "v").ok());
    ASSERT_TRUE(wb.DeleteRange(part, "o", "p").ok());
    std::unique_ptr<rocksdb::Iterator> it{
      raw.db().NewIterator(rocksdb::ReadOptions{}, records)};
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto record = decode_record_value(it->value().ToStringView());
      auto pos = key_position(it->key().ToStringView());
      ASSERT_TRUE(record && pos);
      auto summary = record->first;
      auto without_uid = summary;
      without_uid.uid.clear();
      for (const auto& key : index_keys(summary, *pos)) {
        if (key[0] == static_cast<char>(index_kind::uid)) {
          ASSERT_TRUE(
            wb.Put(part, key, encode_index_value(index_kind::uid, summary))
              .ok());
        }
        if (key[0] == static_cast<char>(index_kind::name)) {
          ASSERT_TRUE(
            wb.Put(part, key, encode_index_value(index_kind::name, without_uid))
              .ok());
        }
      }
      auto h = index_prefix(index_kind::object,
                            {summary.ns, summary.resource, summary.name})
        + encode_position(*pos);
      ASSERT_TRUE(
        wb.Put(part, h, encode_index_value(index_kind::object, without_uid))
          .ok());
    }
    ASSERT_TRUE(it->status().ok());
    it.reset();
    ASSERT_TRUE(wb.Delete(raw.family("meta"), "u").ok());
    ASSERT_TRUE(raw.db().Write({}, &wb).ok());
  }
  open_store();
  EXPECT_EQ(entries(day0), 5u);
  EXPECT_EQ(entries(day0, 'o'), 5u);
  EXPECT_EQ(ids_of("ua"), joined({{before.begin(), before.begin() + 4}}));
  EXPECT_EQ(ids_of("ub"), std::vector<std::string>{before.back()});
  event_query by_name;
  by_name.name = "a";
  EXPECT_EQ(ids_of(by_name), before);
  expect_consistent();
  // Its day goes on as it was written: entries for every record.
  auto same_day = write({ev(day0 + 6 * sec, verb::update, "ub", "6")});
  EXPECT_EQ(entries(day0), 6u);
  EXPECT_EQ(entries(day0, 'o'), 6u);
  // The partitions made after it have one of each per object.
  now_ns_ += day;
  auto later
    = joined({write({ev(day0 + day + sec, verb::update, "ub", "7")}),
              write({ev(day0 + day + 2 * sec, verb::update, "ub", "8")})});
  EXPECT_EQ(entries(day0 + day), 1u);
  EXPECT_EQ(entries(day0 + day, 'o'), 1u);
  auto ub = joined({{before.back()}, same_day, later});
  EXPECT_EQ(ids_of("ub"), ub);
  EXPECT_EQ(ids_of(by_name), joined({before, same_day, later}));
  std::reverse(ub.begin(), ub.end());
  EXPECT_EQ(ids_of("ub", 1, true), ub);
  expect_consistent();
}

} // namespace
