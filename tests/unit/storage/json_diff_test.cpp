#include "storage/json_diff.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rapidjson/document.h>

#include <random>
#include <set>
#include <string>
#include <vector>

using namespace kws::storage;

namespace {

using paths = std::vector<std::string>;

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

json_diff diff(const std::string& from, const std::string& to) {
  auto d = diff_json_text(from, to);
  EXPECT_TRUE(d.has_value()) << from << " / " << to;
  return d ? *d : json_diff{};
}

// Applies our patch with nlohmann's independent RFC 6902 implementation.
nlohmann::json apply_patch(const std::string& from, const json_diff& d) {
  return nlohmann::json::parse(from).patch(
    nlohmann::json::parse(patch_to_json(d.ops)));
}

void expect_round_trip(const std::string& from, const std::string& to) {
  auto d = diff(from, to);
  EXPECT_EQ(apply_patch(from, d), nlohmann::json::parse(to))
    << from << " → " << to << "\npatch: " << patch_to_json(d.ops);
}

} // namespace

TEST(json_diff_test, pointer_tokens_are_escaped) {
  EXPECT_EQ(escape_pointer_token("a/b~c"), "a~1b~0c");
  EXPECT_EQ(escape_pointer_token("~1"), "~01");
  EXPECT_EQ(unescape_pointer_token("~01"), "~1");
  EXPECT_EQ(unescape_pointer_token("a~1b~0c"), "a/b~c");
  EXPECT_EQ(split_pointer("/a~1b//~0"), (paths{"a/b", "", "~"}));
  EXPECT_TRUE(split_pointer("").empty());
}

TEST(json_diff_test, pointer_validity) {
  EXPECT_TRUE(is_valid_pointer(""));
  EXPECT_TRUE(is_valid_pointer("/"));
  EXPECT_TRUE(is_valid_pointer("/a~0b/~1/0"));
  EXPECT_FALSE(is_valid_pointer("a"));
  EXPECT_FALSE(is_valid_pointer("/a~2"));
  EXPECT_FALSE(is_valid_pointer("/a~"));
}

TEST(json_diff_test, pointer_prefixes_are_token_wise) {
  EXPECT_TRUE(pointer_has_prefix("/spec/replicas", "/spec"));
  EXPECT_TRUE(pointer_has_prefix("/spec/replicas", "/spec/replicas"));
  EXPECT_TRUE(pointer_has_prefix("/spec", ""));
  EXPECT_TRUE(pointer_has_prefix("", ""));
  EXPECT_FALSE(pointer_has_prefix("/spec/replicas", "/spec/rep"));
  EXPECT_FALSE(pointer_has_prefix("/spec", "/spec/replicas"));
  EXPECT_FALSE(pointer_has_prefix("/statusx", "/status"));
}

TEST(json_diff_test, resolves_pointers) {
  auto doc = parse(R"({"a/b":{"~":[10,{"":true}]},"01":1})");
  ASSERT_NE(resolve_pointer(doc, "/a~1b/~0/0"), nullptr);
  EXPECT_EQ(resolve_pointer(doc, "/a~1b/~0/0")->GetInt(), 10);
  EXPECT_TRUE(resolve_pointer(doc, "/a~1b/~0/1/")->GetBool());
  EXPECT_EQ(resolve_pointer(doc, "/01")->GetInt(), 1);
  EXPECT_EQ(resolve_pointer(doc, "/a~1b/~0/01"), nullptr);
  EXPECT_EQ(resolve_pointer(doc, "/a~1b/~0/2"), nullptr);
  EXPECT_EQ(resolve_pointer(doc, "/a~1b/~0/-"), nullptr);
  EXPECT_EQ(resolve_pointer(doc, "/missing"), nullptr);
  EXPECT_EQ(resolve_pointer(doc, ""), &doc);
}

TEST(json_diff_test, equal_values_give_an_empty_diff) {
  auto d
    = diff(R"({"a":1,"b":[1,{"c":null}]})", R"({"b":[1,{"c":null}],"a":1})");
  EXPECT_TRUE(d.ops.empty());
  EXPECT_TRUE(d.changed_paths.empty());
  EXPECT_EQ(patch_to_json(d.ops), "[]");
}

TEST(json_diff_test, members_in_another_order_are_matched_by_name) {
  auto from = R"({"a":1,"b":2,"c":{"x":1,"y":2},"e":0})";
  auto to = R"({"c":{"y":2,"x":3},"a":5,"d":1,"e":0})";
  auto d = diff(from, to);
  EXPECT_EQ(d.changed_paths, (paths{"/a", "/b", "/c/x", "/d"}));
  expect_round_trip(from, to);
  // Same order up to a point, then not.
  EXPECT_EQ(
    diff(R"({"a":1,"b":2,"c":3})", R"({"a":1,"c":3,"b":4})").changed_paths,
    (paths{"/b"}));
}

TEST(json_diff_test, nested_objects) {
  auto from = R"({"spec":{"replicas":2,"paused":false,"x":{"y":1}}})";
  auto to = R"({"spec":{"replicas":3,"x":{"y":1,"z":"n"},"new":{}}})";
  auto d = diff(from, to);
  EXPECT_EQ(
    d.changed_paths,
    (paths{"/spec/new", "/spec/paused", "/spec/replicas", "/spec/x/z"}));
  ASSERT_EQ(d.ops.size(), 4u);
  EXPECT_EQ(d.ops[0].op, patch_op_kind::replace);
  EXPECT_EQ(d.ops[0].path, "/spec/replicas");
  EXPECT_EQ(d.ops[0].value, "3");
  EXPECT_EQ(d.ops[0].old_value, "2");
  EXPECT_EQ(d.ops[1].op, patch_op_kind::remove);
  EXPECT_EQ(d.ops[1].path, "/spec/paused");
  EXPECT_EQ(d.ops[1].value, "");
  EXPECT_EQ(d.ops[1].old_value, "false");
  expect_round_trip(from, to);
}

TEST(json_diff_test, arrays_grow) {
  auto d = diff(R"([1])", R"([1,2,[3,4]])");
  EXPECT_EQ(patch_to_json(d.ops),
            R"([{"op":"add","path":"/1","value":2},)"
            R"({"op":"add","path":"/2","value":[3,4]}])");
  EXPECT_EQ(d.changed_paths, (paths{"/1", "/2/0", "/2/1"}));
  expect_round_trip("[1]", "[1,2,[3,4]]");
}

TEST(json_diff_test, arrays_shrink_from_the_top) {
  auto d = diff(R"({"a":[1,2,{"b":3},4]})", R"({"a":[1,2]})");
  EXPECT_EQ(patch_to_json(d.ops),
            R"([{"op":"remove","path":"/a/3"},)"
            R"({"op":"remove","path":"/a/2"}])");
  EXPECT_EQ(d.ops[1].old_value, R"({"b":3})");
  EXPECT_EQ(d.changed_paths, (paths{"/a/2/b", "/a/3"}));
  expect_round_trip(R"({"a":[1,2,{"b":3},4]})", R"({"a":[1,2]})");
}

TEST(json_diff_test, array_elements_are_recursed_into) {
  auto from = R"({"c":[{"name":"web","image":"web:1"},{"name":"side"}]})";
  auto to = R"({"c":[{"name":"web","image":"web:2"},{"name":"side","x":[]}]})";
  auto d = diff(from, to);
  EXPECT_EQ(patch_to_json(d.ops),
            R"([{"op":"replace","path":"/c/0/image","value":"web:2"},)"
            R"({"op":"add","path":"/c/1/x","value":[]}])");
  EXPECT_EQ(d.changed_paths, (paths{"/c/0/image", "/c/1/x"}));
  expect_round_trip(from, to);
}

TEST(json_diff_test, keys_with_slash_and_tilde_are_escaped) {
  auto from = R"({"a/b":{"~c":1,"d":2}})";
  auto to = R"({"a/b":{"~c":2},"~1":"x"})";
  auto d = diff(from, to);
  EXPECT_EQ(d.changed_paths, (paths{"/a~1b/d", "/a~1b/~0c", "/~01"}));
  EXPECT_EQ(d.ops[0].path, "/a~1b/~0c");
  expect_round_trip(from, to);
}

TEST(json_diff_test, type_changes_list_leaves_of_both_sides) {
  auto from = R"({"x":{"a":1,"b":{"c":2}},"y":[1],"z":"s"})";
  auto to = R"({"x":"flat","y":{"0":1},"z":5})";
  auto d = diff(from, to);
  EXPECT_EQ(d.changed_paths, (paths{"/x", "/x/a", "/x/b/c", "/y/0", "/z"}));
  ASSERT_EQ(d.ops.size(), 3u);
  for (const auto& op : d.ops)
    EXPECT_EQ(op.op, patch_op_kind::replace) << op.path;
  EXPECT_EQ(d.ops[0].old_value, R"({"a":1,"b":{"c":2}})");
  expect_round_trip(from, to);
}

TEST(json_diff_test, nulls_are_values) {
  auto d = diff(R"({"a":null,"b":1})", R"({"a":1,"b":null,"c":null})");
  EXPECT_EQ(patch_to_json(d.ops),
            R"([{"op":"replace","path":"/a","value":1},)"
            R"({"op":"replace","path":"/b","value":null},)"
            R"({"op":"add","path":"/c","value":null}])");
  EXPECT_EQ(d.changed_paths, (paths{"/a", "/b", "/c"}));
}

TEST(json_diff_test, numbers_differ_by_text) {
  EXPECT_EQ(diff(R"({"a":1})", R"({"a":1.0})").changed_paths, (paths{"/a"}));
  EXPECT_TRUE(diff(R"({"a":1.5})", R"({"a":1.50})").ops.empty());
  EXPECT_TRUE(diff(R"({"a":-7})", R"({"a":-7})").ops.empty());
  EXPECT_EQ(diff(R"({"a":0.0})", R"({"a":-0.0})").ops.size(), 1u);
  EXPECT_TRUE(
    diff(R"([18446744073709551615])", R"([18446744073709551615])").ops.empty());
  EXPECT_EQ(
    diff(R"([9223372036854775807])", R"([9223372036854775808])").ops.size(),
    1u);
}

TEST(json_diff_test, empty_containers_are_leaves) {
  auto d = diff(R"({"a":{},"b":[],"c":{"x":1},"d":[1]})",
                R"({"a":{"x":1},"b":[],"c":{},"d":[]})");
  // "/a" and "/c", "/d" are leaves on their empty side.
  EXPECT_EQ(d.changed_paths, (paths{"/a", "/a/x", "/c", "/c/x", "/d", "/d/0"}));
  expect_round_trip(R"({"a":{},"b":[],"c":{"x":1},"d":[1]})",
                    R"({"a":{"x":1},"b":[],"c":{},"d":[]})");
  EXPECT_EQ(diff(R"({"a":{}})", R"({"a":[]})").changed_paths, (paths{"/a"}));
}

TEST(json_diff_test, root_differences_replace_the_root) {
  auto d = diff(R"({"a":1})", R"([1])");
  EXPECT_EQ(patch_to_json(d.ops),
            R"([{"op":"replace","path":"","value":[1]}])");
  EXPECT_EQ(d.changed_paths, (paths{"/0", "/a"}));
  expect_round_trip(R"({"a":1})", R"([1])");
  auto s = diff(R"("x")", R"(3)");
  EXPECT_EQ(s.changed_paths, (paths{""}));
  EXPECT_EQ(s.ops[0].old_value, R"("x")");
  expect_round_trip(R"("x")", R"(3)");
  EXPECT_EQ(diff("{}", "[]").changed_paths, (paths{""}));
}

TEST(json_diff_test, huge_strings) {
  std::string a(1 << 20, 'x');
  std::string b = a;
  b.back() = 'y';
  auto from = R"({"data":{"blob":")" + a + R"("}})";
  auto to = R"({"data":{"blob":")" + b + R"("}})";
  auto d = diff(from, to);
  EXPECT_EQ(d.changed_paths, (paths{"/data/blob"}));
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].value.size(), b.size() + 2);
  EXPECT_EQ(d.ops[0].old_value.size(), a.size() + 2);
  EXPECT_TRUE(diff(from, from).ops.empty());
  expect_round_trip(from, to);
}

TEST(json_diff_test, unparseable_text_gives_nullopt) {
  EXPECT_FALSE(diff_json_text("{", "{}").has_value());
  EXPECT_FALSE(diff_json_text("{}", "[1,]").has_value());
  EXPECT_FALSE(diff_json_text("", "{}").has_value());
  EXPECT_FALSE(diff_json_text("{} x", "{}").has_value());
}

TEST(json_diff_test, patch_carries_managers) {
  auto d = diff(R"({"spec":{"r":1},"status":{"s":1}})",
                R"({"spec":{"r":2},"status":{"s":"a\"b"}})");
  auto json = patch_to_json(d.ops, [](std::string_view path) {
    return pointer_has_prefix(path, "/spec") ? std::string{"kubectl"}
                                             : std::string{};
  });
  EXPECT_EQ(
    json,
    R"([{"op":"replace","path":"/spec/r","value":2,"manager":"kubectl"},)"
    R"({"op":"replace","path":"/status/s","value":"a\"b"}])");
}

TEST(json_diff_test, drops_ops_under_prefixes) {
  auto d = diff(
    R"({"metadata":{"managedFields":[1],"resourceVersion":"1"},"spec":{"a":1,"ab":1}})",
    R"({"metadata":{"managedFields":[2],"resourceVersion":"2"},"spec":{"a":2,"ab":2}})");
  ASSERT_EQ(d.ops.size(), 4u);
  drop_ops_under(d.ops, {"/metadata/managedFields", "/spec/a"});
  ASSERT_EQ(d.ops.size(), 2u);
  EXPECT_EQ(d.ops[0].path, "/metadata/resourceVersion");
  EXPECT_EQ(d.ops[1].path, "/spec/ab");
  drop_ops_under(d.ops, {""});
  EXPECT_TRUE(d.ops.empty());
}

TEST(json_diff_test, leaf_paths_of_a_value) {
  auto doc = parse(R"({"a":{"b":[1,{}],"c/d":[]},"e":null})");
  EXPECT_EQ(leaf_paths(doc), (paths{"/a/b/0", "/a/b/1", "/a/c~1d", "/e"}));
  EXPECT_EQ(leaf_paths(doc["a"], "/a"), (paths{"/a/b/0", "/a/b/1", "/a/c~1d"}));
  EXPECT_EQ(leaf_paths(parse("3")), (paths{""}));
  EXPECT_EQ(leaf_paths(parse("{}"), "/x"), (paths{"/x"}));
}

namespace {

// Random JSON for the property test; keys include "/", "~" and "".
class generator {
public:
  explicit generator(uint32_t seed) : rng_(seed) {}

  nlohmann::json value(int depth) {
    auto kind = pick(depth > 0 ? 9 : 6);
    switch (kind) {
      case 0: return nullptr;
      case 1: return pick(2) == 0;
      case 2: return static_cast<int64_t>(pick(2001)) - 1000;
      case 3: return static_cast<double>(pick(4001)) / 8.0 - 250.0;
      case 4:
      case 5: return text();
      case 6:
      case 7: {
        auto obj = nlohmann::json::object();
        for (auto n = pick(5); n > 0; --n)
          obj[key()] = value(depth - 1);
        return obj;
      }
      default: {
        auto arr = nlohmann::json::array();
        for (auto n = pick(5); n > 0; --n)
          arr.push_back(value(depth - 1));
        return arr;
      }
    }
  }

  // A few random edits anywhere in `j`.
  void mutate(nlohmann::json& j, int depth) {
    if (j.is_object() && !j.empty() && pick(4) != 0) {
      auto it = j.begin();
      std::advance(it, pick(j.size()));
      switch (pick(4)) {
        case 0: j.erase(it); break;
        case 1: j[key()] = value(depth); break;
        default: mutate(*it, depth - 1);
      }
      if (pick(3) == 0)
        mutate(j, depth);
    } else if (j.is_array() && !j.empty() && pick(4) != 0) {
      switch (pick(4)) {
        case 0:
          j.erase(j.size() - 1 - pick(std::min<size_t>(j.size(), 2)));
          break;
        case 1: j.push_back(value(depth)); break;
        default: mutate(j[pick(j.size())], depth - 1);
      }
      if (pick(3) == 0)
        mutate(j, depth);
    } else {
      j = value(std::max(depth, 0));
    }
  }

private:
  size_t pick(size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }

  std::string key() {
    static const std::vector<std::string> keys{
      "a", "b", "c", "", "/", "~", "a/b", "~1", "~0x", "c~/d", "0", "10"};
    return keys[pick(keys.size())];
  }

  std::string text() {
    static const std::string chars = "ab/~ \"\\\n0";
    std::string s;
    for (auto n = pick(6); n > 0; --n)
      s += chars[pick(chars.size())];
    if (pick(5) == 0)
      s += "\xc3\xa9"; // é
    return s;
  }

  std::mt19937 rng_;
};

std::set<std::string> leaves_of(const rapidjson::Value& v) {
  auto xs = leaf_paths(v);
  return {xs.begin(), xs.end()};
}

} // namespace

TEST(json_diff_test, property_patches_turn_from_into_to) {
  constexpr uint32_t base_seed = 20261127;
  constexpr int pairs = 1500;
  for (int i = 0; i < pairs; ++i) {
    auto seed = base_seed + static_cast<uint32_t>(i);
    generator gen(seed);
    auto a = gen.value(4);
    nlohmann::json b;
    if (i % 4 == 0) {
      b = gen.value(4);
    } else {
      b = a;
      gen.mutate(b, 3);
    }
    auto from = a.dump();
    auto to = b.dump();
    auto d = diff_json_text(from, to);
    ASSERT_TRUE(d.has_value()) << "seed " << seed;
    auto patch = patch_to_json(d->ops);
    nlohmann::json patched;
    try {
      patched = a.patch(nlohmann::json::parse(patch));
    } catch (const std::exception& e) {
      FAIL() << "seed " << seed << ": " << e.what() << "\nfrom " << from
             << "\nto   " << to << "\npatch " << patch;
    }
    ASSERT_EQ(patched, b) << "seed " << seed << "\nfrom " << from << "\nto   "
                          << to << "\npatch " << patch;
    ASSERT_EQ(d->ops.empty(), a == b) << "seed " << seed;
    ASSERT_TRUE(
      std::is_sorted(d->changed_paths.begin(), d->changed_paths.end()));
    // Every leaf not reported as changed is present and equal on both
    // sides; every reported path is a leaf of one side.
    auto ra = parse(from);
    auto rb = parse(to);
    // The paths alone, as ingest computes them, are the diff's.
    ASSERT_EQ(changed_paths(ra, rb), d->changed_paths) << "seed " << seed;
    auto la = leaves_of(ra);
    auto lb = leaves_of(rb);
    std::set<std::string> changed(d->changed_paths.begin(),
                                  d->changed_paths.end());
    for (const auto& p : changed)
      ASSERT_TRUE(la.count(p) + lb.count(p) > 0)
        << "seed " << seed << " path " << p;
    for (const auto* side : {&la, &lb}) {
      for (const auto& p : *side) {
        if (changed.count(p) > 0)
          continue;
        ASSERT_TRUE(la.count(p) > 0 && lb.count(p) > 0)
          << "seed " << seed << " unreported leaf " << p << "\nfrom " << from
          << "\nto   " << to;
        ASSERT_TRUE(
          json_equal(*resolve_pointer(ra, p), *resolve_pointer(rb, p)))
          << "seed " << seed << " unreported change " << p;
      }
    }
  }
}
