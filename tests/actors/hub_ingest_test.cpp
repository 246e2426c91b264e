// HUB INGEST over real RocksDB stores with the consumer's side injected:
// each poll is stored before its offsets are committed, a new HUB INGEST on
// the same stores passes over what they hold, records of clusters not
// served are committed and not stored, and each cluster's handler gets a
// catalog of the types its store holds, at start and as new ones arrive.
#include "actors/hub_ingest.hpp"

#include "storage/export_message.hpp"
#include "storage/rocks_store.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/test_store.hpp"
#include "util/metrics.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <filesystem>

namespace kws {
namespace {

using storage::kafka_received;

using catalog_log = std::shared_ptr<std::vector<kube::type_catalog_ptr>>;

/// A cluster's handler as far as catalogs go: keeps each one it gets. (An
/// argument, so that CAF's initializer has one to hold.)
catalog_sink_actor::behavior_type catalog_collector(catalog_log catalogs) {
  return {[catalogs](kube::type_catalog_ptr& c) { catalogs->push_back(c); }};
}

struct hub_ingest_test : test::deterministic_fixture {
  std::filesystem::path source_dir;
  std::filesystem::path hub_dir;
  std::shared_ptr<storage::rocks_store> source;
  std::shared_ptr<storage::rocks_store> hub;
  hub_ingest_actor aut;
  /// What the next polls return, one batch each; then nothing.
  std::deque<std::vector<kafka_received>> polls;
  /// Each commit, with how many records the hub's store held at that time.
  std::vector<std::pair<std::vector<kafka_received>, size_t>> commits;
  /// Catalogs the cluster's handler got.
  catalog_log catalogs
    = std::make_shared<std::vector<kube::type_catalog_ptr>>();
  catalog_sink_actor sink;
  int64_t offset = 0;

  void SetUp() override {
    source = test::open_test_store("kws-hub-source", source_dir);
    hub = test::open_test_store("kws-hub-c1", hub_dir);
    ASSERT_TRUE(source && hub);
    sink = sys.spawn(catalog_collector, catalogs);
  }

  void TearDown() override {
    stop();
    self->send_exit(sink, caf::exit_reason::user_shutdown);
    run();
    source.reset();
    hub.reset();
    std::filesystem::remove_all(source_dir);
    std::filesystem::remove_all(hub_dir);
  }

  /// Stores `n` ConfigMap creates in the source; their messages, as
  /// cluster `cluster` exports them, all in partition 0.
  std::vector<kafka_received>
  export_records(int from, int n, const std::string& cluster = "c1") {
    std::vector<resource_event> events;
    for (int i = from; i < from + n; ++i)
      events.push_back(test::configmap_record("cm" + std::to_string(i), i));
    EXPECT_TRUE(source->write(events));
    auto after = source->next_sequence() - 1 - static_cast<uint64_t>(n);
    auto records = source->records_after(after, static_cast<size_t>(n));
    EXPECT_TRUE(records);
    std::vector<kafka_received> out;
    for (const auto& r : *records) {
      auto m = storage::export_message(r, cluster);
      out.push_back({0, offset++, m->key, m->value, m->link});
    }
    return out;
  }

  void start() {
    hub_ingest_config cfg;
    cfg.topic = "t";
    cfg.idle_wait = std::chrono::milliseconds{1};
    cfg.now = [] { return int64_t{1'700'000'100'000'000'000}; };
    std::map<std::string, hub_cluster> clusters{{"c1", {hub, sink}}};
    aut = sys.spawn(
      hub_ingest, cfg, clusters,
      [this](size_t, std::chrono::milliseconds)
        -> caf::expected<std::vector<kafka_received>> {
        if (polls.empty())
          return std::vector<kafka_received>{};
        auto next = std::move(polls.front());
        polls.pop_front();
        return next;
      },
      [this](const std::vector<kafka_received>& handled) -> caf::error {
        auto held = hub->records_after(0, 10'000);
        commits.emplace_back(handled, held ? held->size() : 0);
        return {};
      });
    // Polls until one finds nothing, then waits.
    run();
  }

  /// Ends the wait after an empty poll: polls until one finds nothing.
  void polls_again() { advance(std::chrono::milliseconds{1}); }

  void stop() {
    if (aut)
      self->send_exit(aut, caf::exit_reason::user_shutdown);
    run();
    aut = nullptr;
  }

  size_t held() {
    auto all = hub->records_after(0, 10'000);
    return all ? all->size() : 0;
  }
};

TEST_F(hub_ingest_test, a_poll_is_committed_only_once_it_is_stored) {
  polls.push_back(export_records(1, 3));
  polls.push_back(export_records(4, 2));
  start();
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0].first.size(), 3u);
  EXPECT_EQ(commits[0].second, 3u) << "stored before the commit";
  EXPECT_EQ(commits[1].second, 5u);
  polls_again();
  EXPECT_EQ(commits.size(), 2u) << "an empty poll commits nothing";
  // The hub holds the source's records under their ids.
  auto a = source->records_after(0, 100);
  auto b = hub->records_after(0, 100);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(b->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*a)[i].seq, (*b)[i].seq);
    EXPECT_EQ(storage::export_message((*a)[i], "c1")->value, (*b)[i].json);
  }
}

TEST_F(hub_ingest_test, a_new_hub_on_the_same_store_passes_over_what_it_holds) {
  auto first = export_records(1, 4);
  polls.push_back(first);
  start();
  ASSERT_EQ(held(), 4u);
  stop();
  // Restarted from offsets committed before: everything comes again, then
  // one new record.
  auto& repeated = metrics::get_counter("kws_hub_repeated_records_total", "");
  auto before = repeated.value();
  polls.push_back(first);
  polls.push_back(export_records(5, 1));
  start();
  EXPECT_EQ(held(), 5u);
  EXPECT_EQ(repeated.value() - before, 4u);
  EXPECT_EQ(commits.size(), 3u) << "the replay is committed too";
}

TEST_F(hub_ingest_test, records_of_clusters_not_served_are_committed_not_kept) {
  auto mixed = export_records(1, 2, "c2");
  auto mine = export_records(3, 1);
  mixed.insert(mixed.end(), mine.begin(), mine.end());
  polls.push_back(mixed);
  start();
  EXPECT_EQ(held(), 1u);
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0].first.size(), 3u);
}

TEST_F(hub_ingest_test, the_handler_gets_a_catalog_of_the_stored_types) {
  start();
  ASSERT_EQ(catalogs->size(), 1u) << "one at start, of an empty store";
  EXPECT_FALSE(catalogs->back()->resolve("configmaps"));
  polls.push_back(export_records(1, 2));
  polls_again();
  ASSERT_EQ(catalogs->size(), 2u);
  for (const char* name : {"configmaps", "ConfigMap", "configmap"}) {
    auto rt = catalogs->back()->resolve(name);
    ASSERT_TRUE(rt) << name;
    EXPECT_EQ(*rt, test::configmaps_type);
  }
  polls.push_back(export_records(3, 1));
  polls_again();
  EXPECT_EQ(held(), 3u);
  EXPECT_EQ(catalogs->size(), 2u) << "no new type, no new catalog";
  // A new hub on the store knows the type before any message.
  stop();
  start();
  ASSERT_EQ(catalogs->size(), 3u);
  EXPECT_TRUE(catalogs->back()->resolve("ConfigMap"));
}

} // namespace
} // namespace kws
