#include "storage/index_entry.hpp"

#include "util/errors.hpp"

#include <gtest/gtest.h>

#include <array>

using namespace kws;
using namespace kws::storage;

namespace {

const record_summary event_about_web{
  verb::update, "default", "events",  "events.k8s.io", "web.17a",
  "uid-e",      "kubelet", "default", "pods",          "web"};

/// The entry of `kind` that `s` has at `pos`.
std::string key_of(index_kind kind, const record_summary& s, position pos) {
  for (auto& key : index_keys(s, pos))
    if (key[0] == static_cast<char>(kind))
      return key;
  ADD_FAILURE() << "no '" << static_cast<char>(kind) << "' key";
  return {};
}

/// What a walk of `plan` answers for a record `s`: the walk visits exactly
/// the keys `plan.prefix + ts | seq`, and keeps those whose entry matches.
bool walk_keeps(const event_query& q, const query_plan& plan,
                const record_summary& s) {
  // A namespace's walk visits every run `prefix + type \0` of the
  // namespace+type index.
  const bool runs = plan.kind == index_kind::ns;
  const auto walked = runs ? index_kind::ns_resource : plan.kind;
  auto key = key_of(walked, s, {5, 9});
  if (key.compare(0, plan.prefix.size(), plan.prefix) != 0)
    return false;
  auto rest = std::string_view{key}.substr(plan.prefix.size());
  size_t type_bytes = 0;
  if (runs) {
    auto nul = rest.find('\0');
    if (nul == std::string_view::npos)
      return false;
    type_bytes = nul + 1;
  }
  if (rest.size() != type_bytes + position_bytes)
    return false;
  auto entry = decode_index_entry(key, encode_index_value(walked, s));
  EXPECT_TRUE(entry) << render(entry.error());
  return entry && matches(q, *entry);
}

} // namespace

TEST(index_entry_test, every_query_keeps_what_whole_summaries_would_keep) {
  // A query filters on any subset of the seven fields; a stored record
  // differs from what it asks in at most one of them. Every index the
  // planner picks must then decide as the whole summary does.
  const record_summary asked{verb::update, "shop",  "deployments", "apps",
                             "web-1",      "uid-1", "kubectl",     "",
                             "",           ""};
  using member = std::string record_summary::*;
  const std::array<member, 6> filtered{
    &record_summary::ns,   &record_summary::resource, &record_summary::group,
    &record_summary::name, &record_summary::uid,      &record_summary::user};
  const std::array<std::string event_query::*, 6> query_fields{
    &event_query::ns,   &event_query::resource, &event_query::group,
    &event_query::name, &event_query::uid,      &event_query::user};
  size_t compared = 0;
  for (unsigned subset = 0; subset < (1u << 7); ++subset) {
    event_query q;
    for (size_t f = 0; f < filtered.size(); ++f)
      if ((subset & (1u << f)) != 0)
        q.*query_fields[f] = asked.*filtered[f];
    if ((subset & (1u << 6)) != 0)
      q.verb = "update";
    auto plan = plan_query(q);
    if (plan.kind == index_kind::time)
      continue; // `r` values carry the whole summary
    for (size_t changed = 0; changed <= filtered.size() + 1; ++changed) {
      auto stored = asked;
      if (changed < filtered.size())
        stored.*filtered[changed] += "-other";
      else if (changed == filtered.size())
        stored.action = verb::create;
      EXPECT_EQ(walk_keeps(q, plan, stored), matches(q, stored))
        << "filters " << subset << ", field " << changed << " differs, index "
        << static_cast<char>(plan.kind);
      ++compared;
    }
  }
  EXPECT_GT(compared, 500u);
}

TEST(index_entry_test, entries_leave_out_what_their_key_holds) {
  const position pos{1, 2};
  for (auto kind : {index_kind::object, index_kind::ns_resource}) {
    auto value = encode_index_value(kind, event_about_web);
    // Only the verb, the mask and the group (and the user and uid for `h`:
    // a uid's walk filters on it there).
    EXPECT_EQ(value.find("web"), std::string::npos) << static_cast<char>(kind);
    EXPECT_EQ(value.find("uid-e") != std::string::npos,
              kind == index_kind::object)
      << static_cast<char>(kind);
    EXPECT_NE(value.find("events.k8s.io"), std::string::npos);
    auto back = decode_index_entry(key_of(kind, event_about_web, pos), value);
    ASSERT_TRUE(back) << render(back.error());
    EXPECT_TRUE(same_entry(kind, {}, *back, event_about_web));
  }
  auto link = encode_index_value(index_kind::link, event_about_web);
  EXPECT_EQ(link.size(), 4u); // version, verb, an empty mask
  auto back
    = decode_index_entry(key_of(index_kind::link, event_about_web, pos), link);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->link_ns, "default");
  EXPECT_EQ(back->link_resource, "pods");
  EXPECT_EQ(back->link_name, "web");
  EXPECT_EQ(back->action, verb::update);
}

/// A type entry names the record's object and the object an Event is
/// about: /changes reads a window over every namespace from them alone.
TEST(index_entry_test,
     type_entries_name_the_object_and_what_an_event_is_about) {
  auto value = encode_index_value(index_kind::resource, event_about_web);
  EXPECT_EQ(value.find("uid-e"), std::string::npos);
  auto back = decode_index_entry(
    key_of(index_kind::resource, event_about_web, {1, 2}), value);
  ASSERT_TRUE(back) << render(back.error());
  auto expected = event_about_web;
  expected.uid.clear();
  expected.user.clear();
  EXPECT_EQ(*back, expected);
}

TEST(index_entry_test, a_zero_byte_in_a_key_field_keeps_it_in_the_value) {
  auto odd = event_about_web;
  odd.name = std::string{"we\0b", 4};
  for (auto kind : {index_kind::object, index_kind::name}) {
    auto key = key_of(kind, odd, {0, 0});
    auto back = decode_index_entry(key, encode_index_value(kind, odd));
    ASSERT_TRUE(back) << static_cast<char>(kind);
    EXPECT_EQ(back->name, odd.name);
    EXPECT_TRUE(same_entry(kind, {}, *back, odd));
  }
}

TEST(index_entry_test, whole_summaries_of_older_stores_still_decode) {
  auto key = key_of(index_kind::ns_resource, event_about_web, {3, 4});
  auto back = decode_index_entry(key, encode_summary(event_about_web));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, event_about_web);
}

TEST(index_entry_test, damaged_entries_fail_cleanly) {
  auto key = key_of(index_kind::uid, event_about_web, {3, 4});
  auto value = encode_index_value(index_kind::uid, event_about_web);
  for (size_t n = 0; n < value.size(); ++n) {
    auto back = decode_index_entry(key, value.substr(0, n));
    ASSERT_FALSE(back) << n;
    EXPECT_EQ(back.error(), ec::storage_failure);
  }
  EXPECT_FALSE(decode_index_entry(key, std::string{"\x09\x00\x00\x00", 4}));
  EXPECT_FALSE(decode_index_entry(key, std::string{"\x02\x07\x00\x00", 4}));
  EXPECT_FALSE(decode_index_entry(key, std::string{"\x02\x00\xff\xff", 4}));
  // A key the fields cannot be split from, for an entry that relies on it.
  auto link = encode_index_value(index_kind::link, event_about_web);
  EXPECT_FALSE(decode_index_entry("e\0short", link));
  EXPECT_FALSE(decode_index_entry("", link));
  EXPECT_FALSE(decode_index_entry("r0123456789abcdef", link));
}

TEST(index_entry_test, same_entry_compares_only_what_the_kind_answers_for) {
  auto other = event_about_web;
  other.uid = "uid-x";
  other.link_name = "db";
  EXPECT_TRUE(same_entry(index_kind::ns_resource, {}, other, event_about_web));
  EXPECT_FALSE(same_entry(index_kind::uid, {}, other, event_about_web));
  EXPECT_FALSE(same_entry(index_kind::link, {}, other, event_about_web));
  // A type entry names the object an Event is about, unless written before.
  EXPECT_FALSE(same_entry(index_kind::resource, {}, other, event_about_web));
  EXPECT_TRUE(
    same_entry(index_kind::resource, {.typed = false}, other, event_about_web));
  // A history entry holds the uid, unless written before.
  EXPECT_FALSE(same_entry(index_kind::object, {}, other, event_about_web));
  EXPECT_TRUE(same_entry(index_kind::object, {.uid_in_history = false}, other,
                         event_about_web));
  other = event_about_web;
  other.action = verb::remove;
  EXPECT_FALSE(same_entry(index_kind::ns, {}, other, event_about_web));
}
