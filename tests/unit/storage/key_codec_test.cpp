#include "storage/key_codec.hpp"

#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

using namespace kws;
using namespace kws::storage;

TEST(key_codec_test, positions_sort_bytewise_like_numbers) {
  std::vector<position> xs{{-5, 1},          {-5, 2},
                           {0, 0},           {0, 7},
                           {1, 0},           {max_time_ns, 0},
                           {min_time_ns, 9}, {1'795'688'280'000'000'000, 3}};
  std::vector<std::string> encoded;
  encoded.reserve(xs.size());
  for (auto x : xs)
    encoded.push_back(encode_position(x));
  auto by_value = xs;
  std::sort(by_value.begin(), by_value.end());
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 0; i < xs.size(); ++i) {
    auto decoded = key_position(encoded[i]);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, by_value[i]);
  }
}

TEST(key_codec_test, key_position_reads_the_suffix) {
  auto key = index_prefix(index_kind::object, {"default", "pods", "web"})
    + encode_position({42, 7});
  auto pos = key_position(key);
  ASSERT_TRUE(pos);
  EXPECT_EQ(pos->ts, 42);
  EXPECT_EQ(pos->seq, 7u);
  EXPECT_FALSE(key_position("short"));
}

TEST(key_codec_test, ids_are_fixed_width_hex_in_sequence_order) {
  EXPECT_EQ(format_id(1), "0000000000000001");
  EXPECT_EQ(format_id(255), "00000000000000ff");
  EXPECT_LT(format_id(9), format_id(10));
  EXPECT_LT(format_id(0xff), format_id(0x100));
}

TEST(key_codec_test, partition_names_round_trip) {
  auto day = day_index(1'795'688'280'000'000'000); // 2026-11-26
  EXPECT_EQ(partition_name(day), "p20261126");
  EXPECT_EQ(partition_day("p20261126"), day);
  EXPECT_EQ(partition_name(0), "p19700101");
  EXPECT_FALSE(partition_day("meta"));
  EXPECT_FALSE(partition_day("default"));
  EXPECT_FALSE(partition_day("p2026112"));
  EXPECT_FALSE(partition_day("p20261131"));
  EXPECT_FALSE(partition_day("p2026x126"));
  // A day's records family is named apart, and neither parses as the other.
  EXPECT_EQ(records_name(day), "r20261126");
  EXPECT_EQ(records_day("r20261126"), day);
  EXPECT_FALSE(records_day("p20261126"));
  EXPECT_FALSE(partition_day("r20261126"));
  EXPECT_FALSE(records_day("r20261131"));
}

TEST(key_codec_test, summaries_round_trip) {
  record_summary s{verb::remove, "default", "events",  "",     "web.1",
                   "uid-1",      "kubelet", "default", "pods", "web"};
  auto bytes = encode_summary(s);
  std::string_view in{bytes};
  auto back = decode_summary(in);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  EXPECT_TRUE(in.empty());
}

TEST(key_codec_test, truncated_summaries_fail_cleanly) {
  record_summary s{verb::update, "ns",   "pods", "", "name",
                   "uid",        "user", "",     "", ""};
  auto bytes = encode_summary(s);
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::string_view in{bytes.data(), n};
    auto back = decode_summary(in);
    EXPECT_FALSE(back) << n;
  }
}

namespace {

/// The `r` value as written: its two parts one after the other.
std::string joined(const record_value_parts& parts) {
  return parts.head + std::string{parts.tail};
}

} // namespace

TEST(key_codec_test, record_values_carry_summary_and_json) {
  record_summary s{verb::create, "a", "pods", "", "p", "u", "m", "", "", ""};
  auto value = encode_record_value(s, "x", "{\"verb\":\"create\"}");
  ASSERT_TRUE(value);
  auto bytes = joined(*value);
  auto back = decode_record_value(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->first, s);
  EXPECT_EQ(back->second, "{\"id\":\"x\",\"verb\":\"create\"}");
  EXPECT_FALSE(decode_record_value("ab"));
}

TEST(key_codec_test, record_values_make_id_the_first_member) {
  record_summary s{verb::update, "a", "pods", "", "p", "u", "m", "", "", ""};
  auto json = [&](std::string_view record, std::string_view id) {
    auto value = encode_record_value(s, id, record);
    EXPECT_TRUE(value) << record;
    auto bytes = value ? joined(*value) : std::string{};
    auto back = decode_record_value(bytes);
    EXPECT_TRUE(back) << record;
    return back ? std::string{back->second} : std::string{};
  };
  EXPECT_EQ(json("{\"verb\":\"create\"}", "0000000000000001"),
            "{\"id\":\"0000000000000001\",\"verb\":\"create\"}");
  EXPECT_EQ(json("{}", "01"), "{\"id\":\"01\"}");
  EXPECT_EQ(json(" { } ", "01"), "{\"id\":\"01\" } ");
  EXPECT_EQ(json("  { \"a\":1}", "01"), "{\"id\":\"01\", \"a\":1}");
  // The tail is the record's own bytes, not a copy.
  std::string record = "{\"a\":1}";
  auto value = encode_record_value(s, "01", record);
  ASSERT_TRUE(value);
  EXPECT_EQ(value->tail.data(), record.data() + 1);
  for (auto bad : {"[1]", "", "   ", "\"a\""}) {
    auto refused = encode_record_value(s, "01", bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error(), ec::invalid_argument);
  }
}

TEST(key_codec_test, index_keys_cover_every_index) {
  record_summary s{verb::create, "default", "events",  "",     "e1",
                   "uid-e",      "kubelet", "default", "pods", "web"};
  auto keys = index_keys(s, {10, 3});
  std::string kinds;
  for (const auto& k : keys) {
    kinds += k[0];
    EXPECT_EQ(*key_position(k), (position{10, 3}));
  }
  EXPECT_EQ(kinds, "ruhowmtei");
  EXPECT_EQ(keys.back(),
            index_prefix(index_kind::id, {format_id(3)})
              + encode_position({10, 3}));
  EXPECT_EQ(keys[2],
            index_prefix(index_kind::object, {"default", "events", "e1"})
              + encode_position({10, 3}));
  // No uid, no link: those entries are left out.
  s.uid.clear();
  s.link_resource.clear();
  EXPECT_EQ(index_keys(s, {10, 3}).size(), 7u);
  // Nor does a walk read an empty user's run, or a cluster-scoped type's
  // under a namespace: a query's empty field means "any".
  s.user.clear();
  s.ns.clear();
  kinds.clear();
  for (const auto& k : index_keys(s, {10, 3}))
    kinds += k[0];
  EXPECT_EQ(kinds, "rhoti");
}

TEST(key_codec_test, index_prefix_size_finds_the_prefix_of_every_key) {
  record_summary s{verb::create, "default", "events",  "",     "e1",
                   "uid-e",      "kubelet", "default", "pods", "web"};
  // The position suffix holds zero bytes too: they must not end a prefix.
  for (const auto& key : index_keys(s, {0, 0})) {
    auto size = index_prefix_size(key);
    ASSERT_TRUE(size) << key[0];
    EXPECT_EQ(*size, key.size() - position_bytes) << key[0];
  }
  // A namespace's walk holds no whole prefix: each of its runs does.
  event_query by_ns;
  by_ns.ns = "default";
  auto query_prefix = plan_query(by_ns).prefix;
  EXPECT_FALSE(index_prefix_size(query_prefix));
  auto run = query_prefix + std::string("pods\0", 5);
  EXPECT_EQ(index_prefix_size(run + encode_position({5, 1}) + '\0'),
            run.size());
  EXPECT_FALSE(index_prefix_size(""));
  EXPECT_FALSE(index_prefix_size("x"));
  EXPECT_FALSE(index_prefix_size(std::string("hdefault\0pods", 13)));
  EXPECT_FALSE(index_prefix_size("u"));
}

TEST(key_codec_test, planner_picks_the_most_selective_index) {
  event_query q;
  EXPECT_EQ(plan_query(q).kind, index_kind::time);
  q.ns = "default";
  EXPECT_EQ(plan_query(q).kind, index_kind::ns);
  EXPECT_EQ(plan_query(q).prefix, std::string("mdefault\0", 9));
  q.resource = "pods";
  EXPECT_EQ(plan_query(q).kind, index_kind::ns_resource);
  EXPECT_EQ(plan_query(q).prefix, std::string("mdefault\0pods\0", 14));
  q.user = "kubelet";
  EXPECT_EQ(plan_query(q).kind, index_kind::user);
  q.name = "web";
  EXPECT_EQ(plan_query(q).kind, index_kind::object);
  q.uid = "u1";
  EXPECT_EQ(plan_query(q).kind, index_kind::uid);
  event_query by_name;
  by_name.name = "web"; // Namespace unknown: the object index cannot help.
  by_name.resource = "pods";
  EXPECT_EQ(plan_query(by_name).kind, index_kind::name);
  event_query by_resource;
  by_resource.resource = "pods";
  by_resource.verb = "delete";
  EXPECT_EQ(plan_query(by_resource).kind, index_kind::resource);
}

TEST(key_codec_test, matches_applies_every_filter) {
  record_summary s{verb::update, "default", "deployments", "apps",
                   "web",        "u1",      "kubectl",     "",
                   "",           ""};
  event_query q;
  EXPECT_TRUE(matches(q, s));
  q.group = "apps";
  q.verb = "update";
  q.user = "kubectl";
  EXPECT_TRUE(matches(q, s));
  q.verb = "delete";
  EXPECT_FALSE(matches(q, s));
  q.verb.clear();
  q.group = "extensions";
  EXPECT_FALSE(matches(q, s));
}

TEST(key_codec_test, cursors_round_trip) {
  page_cursor c{{-42, 17}, 99, 0xdeadbeefcafef00dull};
  auto token = encode_cursor(c);
  auto back = decode_cursor(token);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->last, c.last);
  EXPECT_EQ(back->max_seq, 99u);
  EXPECT_EQ(back->filters, c.filters);
}

TEST(key_codec_test, bad_cursors_name_the_continue_parameter) {
  auto token = encode_cursor(page_cursor{{1, 2}, 3, 4});
  std::vector<std::string> bad{"",
                               "abc",
                               token + "00",
                               token.substr(2),
                               "zz" + token.substr(2),
                               "02" + token.substr(2)};
  for (const auto& t : bad) {
    auto c = decode_cursor(t);
    ASSERT_FALSE(c) << t;
    EXPECT_EQ(c.error(), ec::invalid_argument);
    EXPECT_EQ(c.error().context().get_as<std::string>(0), "continue");
  }
}

TEST(key_codec_test, filter_hash_sees_every_filter_but_not_the_limit) {
  event_query a;
  auto base = filter_hash(a);
  a.limit = 5;
  EXPECT_EQ(filter_hash(a), base);
  for (auto field :
       {&event_query::ns, &event_query::resource, &event_query::group,
        &event_query::name, &event_query::verb, &event_query::user,
        &event_query::uid}) {
    event_query b;
    b.*field = "x";
    EXPECT_NE(filter_hash(b), base);
  }
  event_query c;
  c.descending = true;
  EXPECT_NE(filter_hash(c), base);
  event_query d;
  d.start_ns = 0;
  EXPECT_NE(filter_hash(d), base);
  event_query e;
  e.ns = "ab";
  event_query f;
  f.ns = "a";
  f.resource = "b";
  EXPECT_NE(filter_hash(e), filter_hash(f));
}
