// The per-object tallies kept at ingest for /changes: their bytes, how
// operands add up in any grouping (RocksDB merges them so), and which
// operands a record adds, derived from its index keys.
#include "storage/change_tally.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace kws::storage {
namespace {

object_tally some_tally(std::mt19937_64& rng) {
  object_tally t;
  t.creates = static_cast<uint32_t>(rng() % 5);
  t.updates = static_cast<uint32_t>(rng() % 100);
  t.deletes = static_cast<uint32_t>(rng() % 2);
  t.warnings = static_cast<uint32_t>(rng() % 7);
  t.normals = static_cast<uint32_t>(rng() % 7);
  t.classes = static_cast<uint8_t>(rng() % 64);
  t.last = position{static_cast<int64_t>(rng() % 1000) - 500, rng() % 1000};
  return t;
}

TEST(object_tally, bytes_round_trip) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    auto t = some_tally(rng);
    auto back = decode_tally(encode_tally(t));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, t);
  }
}

TEST(object_tally, rejects_bytes_it_did_not_write) {
  auto bytes = encode_tally(object_tally{});
  EXPECT_FALSE(decode_tally(""));
  EXPECT_FALSE(decode_tally(bytes.substr(1)));
  EXPECT_FALSE(decode_tally(bytes + "x"));
  bytes[0] = 9; // an unknown version
  EXPECT_FALSE(decode_tally(bytes));
}

TEST(object_tally, adds_in_any_grouping_and_order) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100; ++i) {
    auto a = some_tally(rng);
    auto b = some_tally(rng);
    auto c = some_tally(rng);
    auto left = a;
    add_tally(left, b);
    add_tally(left, c);
    auto right = b;
    add_tally(right, c);
    auto reversed = right;
    add_tally(right, a);
    add_tally(reversed, a);
    EXPECT_EQ(left, right);
    EXPECT_EQ(left, reversed);
    EXPECT_EQ(left.updates, a.updates + b.updates + c.updates);
    EXPECT_EQ(left.classes, a.classes | b.classes | c.classes);
    EXPECT_EQ(left.last, std::max({a.last, b.last, c.last}));
  }
}

TEST(object_tally, counts_saturate_instead_of_wrapping) {
  object_tally a;
  a.updates = UINT32_MAX - 1;
  object_tally b;
  b.updates = 5;
  add_tally(a, b);
  EXPECT_EQ(a.updates, UINT32_MAX);
}

TEST(object_tally, an_update_adds_to_its_own_object) {
  record_summary s;
  s.action = verb::update;
  s.ns = "shop";
  s.resource = "deployments";
  s.name = "web";
  s.uid = "u1";
  s.cls = change_class::status;
  const position pos{42, 7};
  auto ops = tally_operands(index_keys(s, pos), s, pos);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].first,
            std::string("c") + "shop" + '\0' + "deployments" + '\0' + "web"
              + '\0');
  auto t = decode_tally(ops[0].second);
  ASSERT_TRUE(t);
  object_tally expected;
  expected.updates = 1;
  expected.classes = 1u << static_cast<uint8_t>(change_class::status);
  expected.last = pos;
  EXPECT_EQ(*t, expected);
  auto object = decode_tally_key(ops[0].first);
  ASSERT_TRUE(object);
  EXPECT_EQ(object->ns, "shop");
  EXPECT_EQ(object->resource, "deployments");
  EXPECT_EQ(object->name, "web");
}

TEST(object_tally, an_event_adds_to_itself_and_to_the_object_it_is_about) {
  record_summary s;
  s.action = verb::create;
  s.ns = "shop";
  s.resource = "events";
  s.name = "web.1";
  s.link_ns = "shop";
  s.link_resource = "deployments";
  s.link_name = "web";
  s.warning = true;
  s.cls = change_class::event;
  const position pos{1, 2};
  auto ops = tally_operands(index_keys(s, pos), s, pos);
  ASSERT_EQ(ops.size(), 2u);
  std::map<std::string, object_tally> by_key;
  for (const auto& [key, bytes] : ops)
    by_key[key] = *decode_tally(bytes);
  auto own = by_key.at(std::string("c") + "shop" + '\0' + "events" + '\0'
                       + "web.1" + '\0');
  EXPECT_EQ(own.creates, 1u);
  EXPECT_EQ(own.warnings, 0u);
  auto about = by_key.at(std::string("c") + "shop" + '\0' + "deployments" + '\0'
                         + "web" + '\0');
  EXPECT_EQ(about.warnings, 1u);
  EXPECT_EQ(about.normals, 0u);
  EXPECT_EQ(about.creates + about.updates + about.deletes, 0u);
  EXPECT_EQ(about.last, position{});
}

TEST(object_tally, keys_of_another_shape_are_not_read_as_objects) {
  EXPECT_FALSE(decode_tally_key(""));
  EXPECT_FALSE(
    decode_tally_key(std::string("h") + "a" + '\0' + "b" + '\0' + "c" + '\0'));
  EXPECT_FALSE(decode_tally_key(std::string("c") + "a" + '\0' + "b" + '\0'));
  EXPECT_FALSE(decode_tally_key(std::string("c") + "a" + '\0' + "b" + '\0' + "c"
                                + '\0' + "extra"));
}

} // namespace
} // namespace kws::storage
