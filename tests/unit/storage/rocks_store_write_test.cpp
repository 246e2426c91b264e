// Writing to the rocks_store: ids and order, rejected records, dropped
// repeats of an unchanged resourceVersion, live objects per type,
// checkpoints in the batch, a reopen that loses nothing, and the contract
// shape of the records it builds.
#include "rocks_store_fixture.hpp"
#include "storage/key_codec.hpp"
#include "storage/record_builder.hpp"
#include "tests/support/contract_record.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <set>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

TEST_F(rocks_store_test, writes_and_reads_back_records_with_ids) {
  open();
  auto res = write({make_event(day0 + 2 * sec, verb::create, "default", "pods",
                               "a", "ua", "1"),
                    make_event(day0 + 1 * sec, verb::create, "default", "pods",
                               "b", "ub", "2")});
  EXPECT_EQ(res.written, 2u);
  EXPECT_EQ(res.dropped, 0u);
  ASSERT_EQ(res.ids.size(), 2u);
  EXPECT_EQ(res.ids[0], "0000000000000001");
  EXPECT_EQ(res.ids[1], "0000000000000002");
  auto page = store_->query(event_query{});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->records.size(), 2u);
  // Ordered by timestamp: b (1 s) before a (2 s).
  EXPECT_EQ(page->records[0],
            "{\"id\":\"0000000000000002\",\"verb\":\"create\",\"namespace\":"
            "\"default\",\"resourceType\":\"pods\",\"resourceName\":\"b\","
            "\"uid\":\"ub\",\"resourceVersion\":\"2\",\"apiVersion\":\"v1\","
            "\"ts\":"
              + std::to_string(day0 + sec) + "}");
  EXPECT_EQ(seq_of(page->records[1]), 1u);
  EXPECT_FALSE(page->has_more);
  EXPECT_EQ(store_->partitions(), std::vector<std::string>{"p20261126"});
}

TEST_F(rocks_store_test, rejects_records_that_are_not_objects) {
  open();
  auto ev = make_event(day0, verb::create, "n", "pods", "a", "u", "1");
  ev.record = "[]";
  auto res = store_->write({ev});
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), ec::invalid_argument);
  EXPECT_EQ(store_->next_sequence(), 1u);
}

TEST_F(rocks_store_test, equal_timestamps_order_by_id) {
  open();
  std::vector<resource_event> batch;
  for (int i = 0; i < 5; ++i)
    batch.push_back(make_event(day0, verb::create, "n", "pods",
                               "p" + std::to_string(i), "u", "1"));
  write(batch);
  event_query q;
  EXPECT_EQ(all_pages(q), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  q.descending = true;
  q.limit = 2;
  EXPECT_EQ(all_pages(q), (std::vector<uint64_t>{5, 4, 3, 2, 1}));
}

TEST_F(rocks_store_test, drops_repeats_of_an_unchanged_resource_version) {
  open();
  write({make_event(day0, verb::create, "n", "pods", "a", "u1", "5")});
  // The same uid at the same resourceVersion: a repeat after a relist.
  auto dup = make_event(day0 + sec, verb::create, "n", "pods", "a", "u1", "5");
  auto res = store_->write({dup});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->written, 0u);
  EXPECT_EQ(res->dropped, 1u);
  // Within one batch the second copy sees the first.
  auto batch = std::vector<resource_event>{
    make_event(day0 + 2 * sec, verb::update, "n", "pods", "a", "u1", "6"),
    make_event(day0 + 3 * sec, verb::update, "n", "pods", "a", "u1", "6")};
  res = store_->write(batch);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->written, 1u);
  EXPECT_EQ(res->dropped, 1u);
  // A new uid under the same name (re-created object) is not a repeat.
  res = store_->write(
    {make_event(day0 + 4 * sec, verb::create, "n", "pods", "a", "u2", "6")});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->written, 1u);
  // Deletes are never dropped, even at the last known version (an inferred
  // delete carries it).
  res = store_->write(
    {make_event(day0 + 5 * sec, verb::remove, "n", "pods", "a", "u2", "6")});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->written, 1u);
  // The repeat check survives a restart.
  open();
  res = store_->write(
    {make_event(day0 + 6 * sec, verb::create, "n", "pods", "b", "u3", "9")});
  ASSERT_TRUE(res);
  open();
  res = store_->write(
    {make_event(day0 + 7 * sec, verb::create, "n", "pods", "b", "u3", "9")});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->dropped, 1u);
}

TEST_F(rocks_store_test, tracks_live_objects_per_resource_type) {
  open();
  write({make_event(day0, verb::create, "n", "pods", "a", "ua", "1"),
         make_event(day0, verb::create, "n", "pods", "b", "ub", "2"),
         make_event(day0, verb::create, "", "nodes", "node-1", "un", "3"),
         make_event(day0, verb::create, "n", "deployments", "web", "ud", "4")});
  write({make_event(day0 + sec, verb::update, "n", "pods", "a", "ua", "7"),
         make_event(day0 + sec, verb::remove, "n", "pods", "b", "ub", "8")});
  auto live = store_->live_objects("pods");
  ASSERT_TRUE(live);
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].key, "n/a");
  EXPECT_EQ((*live)[0].uid, "ua");
  EXPECT_EQ((*live)[0].resource_version, "7");
  auto node_list = store_->live_objects("nodes");
  ASSERT_TRUE(node_list);
  ASSERT_EQ(node_list->size(), 1u);
  EXPECT_EQ((*node_list)[0].key, "node-1");
  auto deploys = store_->live_objects("deployments.apps");
  ASSERT_TRUE(deploys);
  EXPECT_EQ(deploys->size(), 1u);
  auto none = store_->live_objects("secrets");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(rocks_store_test, checkpoints_are_written_with_the_batch) {
  open();
  auto cp = store_->checkpoint("pods");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->resource_version, "");
  write({make_event(day0, verb::create, "n", "pods", "a", "ua", "10")},
        {{"pods", "10"}, {"deployments.apps", "3"}});
  // A checkpoint alone (a bookmark) is a write too.
  ASSERT_TRUE(store_->write({}, {{"nodes", "11"}}));
  open();
  EXPECT_EQ(store_->checkpoint("pods")->resource_version, "10");
  EXPECT_EQ(store_->checkpoint("deployments.apps")->resource_version, "3");
  EXPECT_EQ(store_->checkpoint("nodes")->resource_version, "11");
}

TEST_F(rocks_store_test, reopen_loses_nothing_and_continues_ids) {
  open();
  for (int b = 0; b < 20; ++b) {
    std::vector<resource_event> batch;
    for (int i = 0; i < 50; ++i)
      batch.push_back(make_event(
        day0 + (b * 50 + i) * sec, verb::update, "ns" + std::to_string(i % 3),
        "pods", "p" + std::to_string(i), "u" + std::to_string(i),
        std::to_string(b * 100 + i)));
    write(batch);
  }
  event_query q;
  q.limit = 1000;
  auto before = all_pages(q);
  ASSERT_EQ(before.size(), 1000u);
  open();
  EXPECT_EQ(all_pages(q), before);
  EXPECT_EQ(store_->next_sequence(), 1001u);
  auto res
    = write({make_event(day0, verb::create, "x", "pods", "new", "un", "1")});
  ASSERT_EQ(res.ids.size(), 1u);
  EXPECT_EQ(res.ids[0], format_id(1001));
  expect_consistent(1001u);
}

// A new store starts at its first id; one that gave ids continues after its
// newest, whatever first id it is opened with.
TEST_F(rocks_store_test, a_new_store_starts_at_its_first_id) {
  auto opts = options();
  opts.first_id = 1'000'000;
  open(opts);
  EXPECT_EQ(store_->next_sequence(), 1'000'000u);
  auto res
    = write({make_event(day0, verb::create, "x", "pods", "a", "ua", "1"),
             make_event(day0, verb::create, "x", "pods", "b", "ub", "1")});
  EXPECT_EQ(
    res.ids,
    (std::vector<std::string>{format_id(1'000'000), format_id(1'000'001)}));
  opts.first_id = 5'000'000;
  open(opts);
  EXPECT_EQ(store_->next_sequence(), 1'000'002u);
  opts.first_id = 1;
  open(opts);
  EXPECT_EQ(store_->next_sequence(), 1'000'002u);
  expect_consistent(2u);
}

// first_id_now() grows with the clock: a store made later starts higher.
TEST(first_id_now, is_the_microseconds_since_the_epoch) {
  auto before = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  auto id = first_id_now();
  EXPECT_GE(id, static_cast<uint64_t>(before));
  EXPECT_LT(id, static_cast<uint64_t>(before) + 60'000'000);
}

TEST_F(rocks_store_test, built_records_decode_strictly_as_the_contract_array) {
  open();
  resource_type secrets{"", "v1", "Secret", "secrets", true};
  std::vector<resource_event> batch;
  auto add = [&](const resource_type& rt, verb v, const char* file,
                 record_options opts = {}) {
    auto ev = build_record(rt, v, read_fixture(file), day0 + sec, opts);
    ASSERT_TRUE(ev) << file;
    batch.push_back(std::move(*ev));
  };
  add(pods(), verb::create, "pod.json", record_options{true, false, true});
  add(pods(), verb::remove, "pod.json", record_options{false, true, true});
  add(secrets, verb::update, "secret.json");
  add(core_events(), verb::create, "event_v1.json");
  add(nodes(), verb::update, "node.json");
  add(deployments(), verb::update, "deployment.json");
  write(batch);
  auto page = store_->query(event_query{});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->records.size(), 6u);
  // The body rest/render writes: the records joined into an array.
  std::string body = "[";
  for (size_t i = 0; i < page->records.size(); ++i)
    body += (i ? "," : "") + page->records[i];
  body += "]";
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  ASSERT_FALSE(doc.HasParseError());
  ASSERT_TRUE(doc.IsArray());
  std::set<std::string> ids;
  for (const auto& rec : doc.GetArray()) {
    kws::test::expect_contract_record(rec);
    EXPECT_TRUE(ids.insert(rec["id"].GetString()).second);
    if (rec.HasMember("finalStateUnknown")) {
      EXPECT_TRUE(rec["finalStateUnknown"].IsBool());
    }
    if (std::string{rec["resourceType"].GetString()} == "events") {
      EXPECT_TRUE(rec["reason"].IsString());
      EXPECT_TRUE(rec["type"].IsString());
      EXPECT_TRUE(rec["count"].IsInt());
      ASSERT_TRUE(rec["involvedObject"].IsObject());
      for (const char* key : {"kind", "namespace", "name", "uid", "apiVersion"})
        EXPECT_TRUE(rec["involvedObject"][key].IsString()) << key;
    }
  }
}
