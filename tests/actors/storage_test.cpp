// STORAGE over a real RocksDB in a temporary directory, driven by the
// deterministic scheduler: group commit of what queued during a write,
// batching by size, durable acknowledgements, checkpoints, coverage gaps.
#include "actors/storage.hpp"

#include "storage/rocks_store.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/test_store.hpp"
#include "util/metrics.hpp"

#include <filesystem>

namespace kws {
namespace {

using namespace std::chrono_literals;

using test::configmap_record;

struct storage_test : test::deterministic_fixture {
  std::filesystem::path dir;
  std::shared_ptr<storage::rocks_store> store;
  storage_actor aut;

  void SetUp() override {
    store = test::open_test_store("kws-storage-actor", dir);
    ASSERT_TRUE(store);
  }

  void start(size_t batch_size) {
    storage_config cfg;
    cfg.batch_size = batch_size;
    cfg.now = [] { return int64_t{1'700'000'100'000'000'000}; };
    aut = sys.spawn(storage_writer, cfg, store);
    run();
  }

  void TearDown() override {
    if (aut)
      self->send_exit(aut, caf::exit_reason::user_shutdown);
    run();
    aut = nullptr;
    store.reset();
    std::filesystem::remove_all(dir);
  }

  static uint64_t batches_written() {
    return metrics::get_counter("kws_storage_batches_total",
                                "Batches written to RocksDB.")
      .value();
  }

  size_t stored() {
    event_query q;
    auto page = store->query(q);
    EXPECT_TRUE(page) << render(page.error());
    return page ? page->records.size() : 0;
  }
};

TEST_F(storage_test, a_lone_batch_is_written_at_once) {
  start(100);
  auto rp = self->request(
    aut, caf::infinite,
    ingest_batch{"configmaps", {configmap_record("a", 1)}, "1"});
  EXPECT_EQ(stored(), 0u);
  // No virtual time passes: the write does not wait for a timer.
  run();
  auto r = try_collect<atom::ok>(rp);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(stored(), 1u);
  auto cp = store->checkpoint("configmaps");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->resource_version, "1");
}

TEST_F(storage_test, batches_queued_during_a_write_go_out_in_one_write) {
  start(100'000);
  auto before = batches_written();
  // Fifty producers' batches reach the mailbox while STORAGE is busy.
  std::vector<decltype(self->request(aut, caf::infinite, ingest_batch{}))> rps;
  for (int i = 0; i < 50; ++i)
    rps.push_back(self->request(
      aut, caf::infinite,
      ingest_batch{"configmaps",
                   {configmap_record("cm-" + std::to_string(i), i + 1)},
                   std::to_string(i + 1)}));
  run();
  for (auto& rp : rps) {
    auto r = try_collect<atom::ok>(rp);
    ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
  }
  EXPECT_EQ(batches_written() - before, 1u);
  EXPECT_EQ(stored(), 50u);
  auto cp = store->checkpoint("configmaps");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->resource_version, "50");
}

TEST_F(storage_test, a_full_batch_is_written_without_waiting_for_the_rest) {
  start(3);
  auto before = batches_written();
  auto rp1 = self->request(
    aut, caf::infinite,
    ingest_batch{
      "configmaps", {configmap_record("a", 1), configmap_record("b", 2)}, "2"});
  auto rp2 = self->request(
    aut, caf::infinite,
    ingest_batch{"configmaps", {configmap_record("c", 3)}, "3"});
  auto rp3 = self->request(
    aut, caf::infinite,
    ingest_batch{"configmaps", {configmap_record("d", 4)}, "4"});
  run();
  for (auto* rp : {&rp1, &rp2, &rp3}) {
    auto r = try_collect<atom::ok>(*rp);
    ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
  }
  // a+b+c reach the batch size; d goes out in a write of its own.
  EXPECT_EQ(batches_written() - before, 2u);
  EXPECT_EQ(stored(), 4u);
}

TEST_F(storage_test, explicit_flush_writes_and_reports_the_count) {
  start(100);
  self->send(aut,
             ingest_batch{"configmaps",
                          {configmap_record("a", 1), configmap_record("b", 2)},
                          ""});
  auto rp = self->request(aut, caf::infinite, atom::flush_v);
  run();
  auto n = try_collect<uint64_t>(rp);
  ASSERT_TRUE(n);
  ASSERT_TRUE(*n);
  EXPECT_EQ(**n, 2u);
}

TEST_F(storage_test, the_live_view_includes_records_still_pending) {
  start(100);
  self->send(aut, ingest_batch{"configmaps", {configmap_record("a", 3)}, "3"});
  auto rp = self->request(aut, caf::infinite, atom::live_v,
                          std::string{"configmaps"});
  run();
  auto live = try_collect<std::vector<live_object>>(rp);
  ASSERT_TRUE(live);
  ASSERT_TRUE(*live);
  ASSERT_EQ((*live)->size(), 1u);
  EXPECT_EQ((*live)->at(0).resource_version, "3");
}

TEST_F(storage_test, coverage_gaps_are_stored_with_their_records) {
  start(100);
  ingest_batch batch{"configmaps", {configmap_record("a", 9)}, "9"};
  coverage_gap gap;
  gap.group_resource = "configmaps";
  gap.start_ns = 1'700'000'000'000'000'000;
  gap.end_ns = 1'700'000'060'000'000'000;
  gap.from_resource_version = "4";
  gap.to_resource_version = "9";
  gap.reason = "410 Gone";
  batch.gaps.push_back(gap);
  auto rp = self->request(aut, caf::infinite, batch);
  run();
  ASSERT_TRUE(try_collect<atom::ok>(rp));
  auto all = store->coverage({});
  ASSERT_TRUE(all) << render(all.error());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->at(0).from_resource_version, "4");
  EXPECT_EQ(all->at(0).to_resource_version, "9");
  EXPECT_EQ(all->at(0).reason, "410 Gone");
  EXPECT_EQ(all->at(0).start_ns, gap.start_ns);
  EXPECT_EQ(all->at(0).end_ns, gap.end_ns);
  // Windows that end before it or start after it see no such gap. The
  // batch's checkpoint is the type's first watch (now, on the store's
  // clock): every window starting before it also reports that.
  auto relists = [&](int64_t start, int64_t end) {
    auto found = store->coverage({start, end});
    EXPECT_TRUE(found) << render(found.error());
    std::vector<coverage_gap> result;
    if (!found)
      return result;
    for (auto& g : *found) {
      EXPECT_EQ(g.group_resource, "configmaps");
      if (g.reason != "not yet watched")
        result.push_back(std::move(g));
      else
        EXPECT_EQ(g.end_ns, end) << "the first watch lies after the window";
    }
    return result;
  };
  EXPECT_TRUE(relists(0, gap.start_ns - 1).empty());
  EXPECT_TRUE(relists(gap.end_ns + 1, gap.end_ns + 2).empty());
  EXPECT_EQ(relists(gap.start_ns + 1, gap.start_ns + 2).size(), 1u);
}

TEST_F(storage_test, repeats_of_an_unchanged_resource_version_are_dropped) {
  start(1);
  for (int i = 0; i < 2; ++i) {
    auto rp = self->request(
      aut, caf::infinite,
      ingest_batch{"configmaps", {configmap_record("a", 7)}, "7"});
    run();
    ASSERT_TRUE(try_collect<atom::ok>(rp));
  }
  EXPECT_EQ(stored(), 1u);
  auto rp = self->request(aut, caf::infinite, atom::live_v,
                          std::string{"configmaps"});
  run();
  auto live = try_collect<std::vector<live_object>>(rp);
  ASSERT_TRUE(live);
  ASSERT_TRUE(*live);
  ASSERT_EQ((*live)->size(), 1u);
  EXPECT_EQ((*live)->at(0).key, "default/a");
  EXPECT_EQ((*live)->at(0).resource_version, "7");
}

TEST_F(storage_test, each_tick_publishes_the_stores_memory_and_disk) {
  auto gauge = [](const char* labels = "") -> metrics::gauge& {
    return metrics::get_gauge(labels[0] != 0 ? "kws_storage_memory_bytes"
                                             : "kws_storage_disk_bytes",
                              "", labels);
  };
  auto& memtables = gauge("part=\"memtables\"");
  auto& disk = gauge();
  start(100);
  self->send(aut, ingest_batch{"configmaps", {configmap_record("a", 1)}, "1"});
  run();
  ASSERT_FALSE(store->flush());
  self->send(aut, ingest_batch{"configmaps", {configmap_record("b", 2)}, "2"});
  run();
  memtables.set(-1);
  disk.set(-1);
  advance(std::chrono::seconds{10});
  EXPECT_GT(memtables.value(), 0) << "record b waits in a memtable";
  EXPECT_GT(disk.value(), 0) << "record a was flushed to a table file";
  EXPECT_EQ(disk.value(), static_cast<int64_t>(store->disk().live_files));
}

TEST_F(storage_test, exit_flushes_what_producers_wait_for) {
  start(100);
  auto rp = self->request(
    aut, caf::infinite,
    ingest_batch{"configmaps", {configmap_record("a", 1)}, "1"});
  // The batch alone is taken; its write is still queued behind the exit.
  sched.run_once();
  self->send_exit(aut, caf::exit_reason::user_shutdown);
  run();
  aut = nullptr;
  auto r = try_collect<atom::ok>(rp);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(stored(), 1u);
}

} // namespace
} // namespace kws
