// stored_types: the resource types a store holds history of, recovered from
// its checkpoints and newest records, so that DISCOVERY can resolve types the
// apiserver no longer serves after a restart.
#include "actors/discovery.hpp"
#include "storage/record_builder.hpp"
#include "storage/rocks_store.hpp"
#include "tests/support/test_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace kws {
namespace {

const resource_type gizmos{"e2e.example.com", "v1", "Gizmo", "gizmos", true};
const resource_type widgets{"example.com", "v2", "Widget", "widgets", false};
const resource_type core_events{"", "v1", "Event", "events", true};
const resource_type new_events{"events.k8s.io", "v1", "Event", "events", true};

resource_event make_record(const resource_type& rt, const std::string& name,
                           const std::string& ns) {
  auto json = R"({"apiVersion":")" + rt.api_version() + R"(","kind":")"
    + rt.kind + R"(","metadata":{"name":")" + name + R"(",)"
    + (ns.empty() ? "" : R"("namespace":")" + ns + R"(",)") + R"("uid":"uid-)"
    + rt.plural + name + R"(","resourceVersion":"7"}})";
  auto ev
    = storage::build_record(rt, verb::create, json, 1'700'000'000'000'000'000);
  EXPECT_TRUE(ev) << render(ev.error());
  return *ev;
}

struct stored_types_test : ::testing::Test {
  std::filesystem::path dir;

  void SetUp() override { dir = test::fresh_test_dir("kws-stored-types"); }

  void TearDown() override { std::filesystem::remove_all(dir); }

  storage::rocks_store open() {
    storage::store_options opts;
    opts.path = dir.string();
    auto store = storage::rocks_store::open(opts);
    EXPECT_TRUE(store) << render(store.error());
    return std::move(*store);
  }
};

TEST_F(stored_types_test, an_empty_store_has_none) {
  auto store = open();
  auto types = stored_types(store);
  ASSERT_TRUE(types) << render(types.error());
  EXPECT_TRUE(types->empty());
}

TEST_F(stored_types_test, types_come_back_from_checkpoints_and_records) {
  {
    auto store = open();
    ASSERT_TRUE(store.write({make_record(gizmos, "g1", "default")},
                            {{gizmos.group_resource(), "7"}}));
    ASSERT_TRUE(store.write({make_record(widgets, "w1", "")},
                            {{widgets.group_resource(), "8"}}));
    // The same plural in two groups: each keeps its own group.
    ASSERT_TRUE(store.write({make_record(core_events, "e1", "default"),
                             make_record(new_events, "e2", "default")},
                            {{core_events.group_resource(), "9"},
                             {new_events.group_resource(), "9"}}));
    // A type that was watched but never had an object: nothing to resolve.
    ASSERT_TRUE(store.write({}, {{"nothings.example.com", "3"}}));
  }
  // Reopened, as after a restart.
  auto store = open();
  auto types = stored_types(store);
  ASSERT_TRUE(types) << render(types.error());
  std::map<std::string, resource_type> by_key;
  for (auto& rt : *types)
    by_key.emplace(rt.group_resource(), rt);
  ASSERT_EQ(by_key.size(), 4u) << ::testing::PrintToString(by_key.size());
  EXPECT_EQ(by_key.at("gizmos.e2e.example.com"), gizmos);
  EXPECT_EQ(by_key.at("widgets.example.com"), widgets);
  EXPECT_EQ(by_key.at("events"), core_events);
  EXPECT_EQ(by_key.at("events.events.k8s.io"), new_events);
}

} // namespace
} // namespace kws
