#include "kube/relist_diff.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

using kws::list_result;
using kws::live_object;
using kws::kube::diff_relist;

namespace {

std::string item(const std::string& ns, const std::string& name,
                 const std::string& uid, const std::string& rv) {
  auto ns_field
    = ns.empty() ? std::string{} : fmt::format(R"("namespace":"{}",)", ns);
  return fmt::format(
    R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{}",{}"uid":"{}","resourceVersion":"{}"}},"spec":{{}}}})",
    name, ns_field, uid, rv);
}

} // namespace

TEST(relist_diff, creates_updates_deletes_and_unchanged) {
  std::vector<live_object> known{{"ns/same", "u1", "10"},
                                 {"ns/changed", "u2", "11"},
                                 {"ns/gone", "u3", "12"},
                                 {"node-a", "u4", "13"}};
  list_result fresh;
  fresh.resource_version = "100";
  fresh.items
    = {item("ns", "same", "u1", "10"), item("ns", "changed", "u2", "50"),
       item("ns", "new", "u9", "60"), item("", "node-a", "u4", "13")};
  auto d = diff_relist(known, fresh);
  EXPECT_EQ(d.creates, (std::vector<size_t>{2}));
  EXPECT_EQ(d.updates, (std::vector<size_t>{1}));
  ASSERT_EQ(d.deletes.size(), 1u);
  EXPECT_EQ(d.deletes[0].key, "ns/gone");
  EXPECT_EQ(d.deletes[0].uid, "u3");
  EXPECT_EQ(d.num_unchanged, 2u);
  EXPECT_TRUE(d.malformed.empty());
}

TEST(relist_diff, a_new_uid_is_delete_plus_create) {
  std::vector<live_object> known{{"ns/a", "old-uid", "10"}};
  list_result fresh;
  // Same RV on purpose: the uid alone decides.
  fresh.items = {item("ns", "a", "new-uid", "10")};
  auto d = diff_relist(known, fresh);
  EXPECT_EQ(d.creates, (std::vector<size_t>{0}));
  EXPECT_TRUE(d.updates.empty());
  ASSERT_EQ(d.deletes.size(), 1u);
  EXPECT_EQ(d.deletes[0].uid, "old-uid");
  EXPECT_EQ(d.deletes[0].resource_version, "10");
}

TEST(relist_diff, empty_sides) {
  list_result fresh;
  EXPECT_TRUE(diff_relist({}, fresh).creates.empty());
  std::vector<live_object> known{{"a", "u", "1"}, {"b", "v", "2"}};
  auto all_gone = diff_relist(known, fresh);
  ASSERT_EQ(all_gone.deletes.size(), 2u);
  EXPECT_EQ(all_gone.deletes[0].key, "a");
  EXPECT_EQ(all_gone.deletes[1].key, "b");
  fresh.items = {item("", "a", "u", "1"), item("", "b", "v", "2")};
  auto all_new = diff_relist({}, fresh);
  EXPECT_EQ(all_new.creates, (std::vector<size_t>{0, 1}));
}

TEST(relist_diff, malformed_items_are_reported_not_guessed) {
  list_result fresh;
  fresh.items
    = {R"({"metadata":{"uid":"x"}})", "{not json", item("ns", "ok", "u", "1")};
  auto d = diff_relist({}, fresh);
  EXPECT_EQ(d.malformed, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(d.creates, (std::vector<size_t>{2}));
}

TEST(relist_diff, duplicate_known_keys_keep_the_first) {
  std::vector<live_object> known{{"ns/a", "u1", "1"}, {"ns/a", "u2", "2"}};
  list_result fresh;
  fresh.items = {item("ns", "a", "u1", "1")};
  auto d = diff_relist(known, fresh);
  EXPECT_EQ(d.num_unchanged, 1u);
  EXPECT_TRUE(d.deletes.empty());
}

TEST(relist_diff, large_lists) {
  std::vector<live_object> known;
  list_result fresh;
  for (int i = 0; i < 20000; ++i) {
    auto name = fmt::format("obj-{}", i);
    known.push_back({"ns/" + name, fmt::format("u{}", i), "1"});
    if (i % 3 != 0)
      fresh.items.push_back(
        item("ns", name, fmt::format("u{}", i), i % 3 == 1 ? "1" : "2"));
  }
  auto d = diff_relist(known, fresh);
  EXPECT_EQ(d.deletes.size(), 6667u);
  EXPECT_EQ(d.updates.size(), 6666u);
  EXPECT_EQ(d.num_unchanged, 6667u);
  EXPECT_TRUE(d.creates.empty());
}
