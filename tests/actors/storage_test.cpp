// STORAGE over a real RocksDB in a temporary directory, driven by the
// deterministic scheduler: batching by size and by (virtual) time, durable
// acknowledgements, checkpoints.
#include "actors/storage.hpp"

#include "storage/record_builder.hpp"
#include "storage/rocks_store.hpp"
#include "tests/support/deterministic_fixture.hpp"

#include <unistd.h>

#include <filesystem>

namespace kws {
namespace {

using namespace std::chrono_literals;

const resource_type configmaps{"", "v1", "ConfigMap", "configmaps", true};

resource_event make_event(const std::string& name, int rv) {
  auto json = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")"
    + name + R"(","namespace":"default","uid":"uid-)" + name
    + R"(","resourceVersion":")" + std::to_string(rv)
    + R"("},"data":{"k":"v"}})";
  auto ev = storage::build_record(configmaps, verb::create, json,
                                  1'700'000'000'000'000'000 + rv);
  EXPECT_TRUE(ev) << render(ev.error());
  return *ev;
}

struct storage_test : test::deterministic_fixture {
  std::filesystem::path dir;
  std::shared_ptr<storage::rocks_store> store;
  storage_actor aut;

  void SetUp() override {
    auto info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir = std::filesystem::temp_directory_path()
      / ("kws-storage-actor-" + std::string{info->name()} + "-"
         + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    storage::store_options opts;
    opts.path = dir.string();
    auto s = storage::rocks_store::open(opts);
    ASSERT_TRUE(s) << render(s.error());
    store = std::make_shared<storage::rocks_store>(std::move(*s));
  }

  void start(size_t batch_size, std::chrono::milliseconds interval) {
    storage_config cfg;
    cfg.batch_size = batch_size;
    cfg.flush_interval = interval;
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

  size_t stored() {
    event_query q;
    auto page = store->query(q);
    EXPECT_TRUE(page) << render(page.error());
    return page ? page->records.size() : 0;
  }
};

TEST_F(storage_test, acknowledges_once_the_batch_size_is_reached) {
  start(3, 10s);
  auto rp1 = self->request(
    aut, caf::infinite,
    ingest_batch{"configmaps", {make_event("a", 1), make_event("b", 2)}, "2"});
  run();
  EXPECT_FALSE(try_collect<atom::ok>(rp1)) << "acknowledged before durable";
  EXPECT_EQ(stored(), 0u);
  auto rp2 = self->request(
    aut, caf::infinite, ingest_batch{"configmaps", {make_event("c", 3)}, "3"});
  run();
  auto r1 = try_collect<atom::ok>(rp1);
  ASSERT_TRUE(r1);
  EXPECT_TRUE(*r1);
  auto r2 = try_collect<atom::ok>(rp2);
  ASSERT_TRUE(r2);
  EXPECT_TRUE(*r2);
  EXPECT_EQ(stored(), 3u);
  auto cp = store->checkpoint("configmaps");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->resource_version, "3");
}

TEST_F(storage_test, flushes_a_partial_batch_when_its_timer_fires) {
  start(100, 200ms);
  auto rp = self->request(
    aut, caf::infinite, ingest_batch{"configmaps", {make_event("a", 1)}, "1"});
  run();
  EXPECT_FALSE(try_collect<atom::ok>(rp));
  advance(199ms);
  EXPECT_FALSE(try_collect<atom::ok>(rp));
  EXPECT_EQ(stored(), 0u);
  advance(1ms);
  auto r = try_collect<atom::ok>(rp);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(stored(), 1u);
}

TEST_F(storage_test, explicit_flush_writes_and_reports_the_count) {
  start(100, 10s);
  self->send(
    aut,
    ingest_batch{"configmaps", {make_event("a", 1), make_event("b", 2)}, ""});
  run();
  auto rp = self->request(aut, caf::infinite, atom::flush_v);
  run();
  auto n = try_collect<uint64_t>(rp);
  ASSERT_TRUE(n);
  ASSERT_TRUE(*n);
  EXPECT_EQ(**n, 2u);
}

TEST_F(storage_test, repeats_of_an_unchanged_resource_version_are_dropped) {
  start(1, 10s);
  for (int i = 0; i < 2; ++i) {
    auto rp
      = self->request(aut, caf::infinite,
                      ingest_batch{"configmaps", {make_event("a", 7)}, "7"});
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

TEST_F(storage_test, exit_flushes_what_producers_wait_for) {
  start(100, 10s);
  auto rp = self->request(
    aut, caf::infinite, ingest_batch{"configmaps", {make_event("a", 1)}, "1"});
  run();
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
