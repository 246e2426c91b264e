// The store as an exporter's outbox: records after a cursor come in the
// order they were written, across days and whatever their timestamps; the
// cursor survives a reopen; and each record becomes its Kafka message.
#include "rocks_store_fixture.hpp"
#include "storage/export_message.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

namespace {

std::vector<uint64_t> seqs_of(const std::vector<stored_record>& rs) {
  std::vector<uint64_t> out;
  for (const auto& r : rs)
    out.push_back(r.seq);
  return out;
}

} // namespace

TEST_F(rocks_store_test, records_after_walks_the_write_order_across_days) {
  open();
  // Day 1: three records whose timestamps run backwards (a list finds old
  // objects), day 2: two more. Write order is what the outbox follows.
  clock_ = day0 + 3600 * sec;
  write(
    {make_event(day0 - 10 * sec, verb::create, "a", "pods", "p1", "u1", "1"),
     make_event(day0 - 500 * sec, verb::create, "a", "pods", "p2", "u2", "2"),
     make_event(day0 - 900 * sec, verb::create, "b", "pods", "p3", "u3", "3")});
  clock_ = day0 + ns_per_day + 3600 * sec;
  write(
    {make_event(day0 + ns_per_day, verb::update, "a", "pods", "p1", "u1", "4"),
     make_event(day0 + ns_per_day + sec, verb::remove, "b", "pods", "p3", "u3",
                "5")});
  auto all = store_->records_after(0, 100);
  ASSERT_TRUE(all) << render(all.error());
  EXPECT_EQ(seqs_of(*all), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ((*all)[0].uid, "u1");
  EXPECT_EQ((*all)[4].uid, "u3");
  rapidjson::Document doc;
  doc.Parse((*all)[3].json.c_str());
  ASSERT_TRUE(doc.IsObject()) << (*all)[3].json;
  EXPECT_STREQ(doc["id"].GetString(), "0000000000000004");
  EXPECT_STREQ(doc["resourceVersion"].GetString(), "4");

  auto after2 = store_->records_after(2, 2);
  ASSERT_TRUE(after2);
  EXPECT_EQ(seqs_of(*after2), (std::vector<uint64_t>{3, 4}));
  auto none = store_->records_after(5, 10);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(rocks_store_test, export_cursor_starts_at_zero_and_survives_a_reopen) {
  open();
  auto first = store_->export_cursor("kafka/t");
  ASSERT_TRUE(first) << render(first.error());
  EXPECT_EQ(*first, 0u);
  ASSERT_FALSE(store_->set_export_cursor("kafka/t", 41));
  ASSERT_FALSE(store_->set_export_cursor("kafka/other", 7));
  open();
  EXPECT_EQ(store_->export_cursor("kafka/t").value(), 41u);
  EXPECT_EQ(store_->export_cursor("kafka/other").value(), 7u);
  // The cursor is no checkpoint: resource types still list none.
  EXPECT_TRUE(store_->checkpoints().value().empty());
}

TEST_F(rocks_store_test, records_after_skips_what_retention_dropped) {
  open();
  clock_ = day0 + 3600 * sec;
  write({make_event(day0, verb::create, "a", "pods", "p1", "u1", "1")});
  clock_ = day0 + 3 * ns_per_day;
  write({make_event(clock_, verb::create, "a", "pods", "p2", "u2", "2")});
  ASSERT_EQ(store_->drop_expired(clock_, 1).value(), 1u);
  auto left = store_->records_after(0, 10);
  ASSERT_TRUE(left);
  EXPECT_EQ(seqs_of(*left), (std::vector<uint64_t>{2}));
}

TEST(export_message, keys_by_cluster_and_uid_and_names_the_cluster) {
  stored_record r{7, "uid-1", R"({"id":"0000000000000007","verb":"create"})"};
  auto m = export_message(r, "prod-eu-1");
  ASSERT_TRUE(m) << render(m.error());
  EXPECT_EQ(m->key, "prod-eu-1/uid-1");
  EXPECT_EQ(
    m->value,
    R"({"id":"0000000000000007","cluster":"prod-eu-1","verb":"create"})");
  rapidjson::Document doc;
  doc.Parse(m->value.c_str());
  EXPECT_FALSE(doc.HasParseError());
}

TEST(export_message, a_record_without_its_id_in_front_is_refused) {
  stored_record r{7, "uid-1", R"({"verb":"create","id":"7"})"};
  EXPECT_FALSE(export_message(r, "a"));
  r.json = "not json";
  EXPECT_FALSE(export_message(r, "a"));
}
