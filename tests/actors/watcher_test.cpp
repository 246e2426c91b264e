// The WATCHER over a scripted transport (its reflector runs for real, in
// virtual time) and a real STORAGE and RocksDB, with a gate between them that
// holds batches until the test lets them through: batching while a batch is
// in flight, lag, relists and the coverage gaps they record.
#include "actors/watcher.hpp"

#include "actors/storage.hpp"
#include "storage/rocks_store.hpp"
#include "tests/actors/mocks.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/fake_lister_watcher.hpp"
#include "tests/support/test_store.hpp"
#include "util/metrics.hpp"

#include <filesystem>

namespace kws {
namespace {

using namespace std::chrono_literals;

const resource_type pods{"", "v1", "Pod", "pods", true};

std::string pod(const std::string& name, const std::string& uid, int rv) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name
    + R"(","namespace":"ns","uid":")" + uid + R"(","resourceVersion":")"
    + std::to_string(rv) + R"("},"spec":{"nodeName":"n1"}})";
}

watch_event modified(const std::string& name, int rv) {
  return {watch_event_type::modified, pod(name, "uid-" + name, rv),
          std::to_string(rv)};
}

/// Holds the batches a watcher sends until the test opens it, then passes
/// them to STORAGE and answers with STORAGE's answer.
using gate_actor
  = caf::typed_actor<caf::reacts_to<atom::ok>>::extend_with<ingest_sink_actor>;

struct gate_state {
  explicit gate_state(gate_actor::pointer self) : self{self} {}
  gate_actor::pointer self;
  storage_actor storage;
  std::vector<std::pair<ingest_batch, caf::typed_response_promise<atom::ok>>>
    held;
  /// Sizes of the batches the gate received, in order.
  std::shared_ptr<std::vector<size_t>> sizes;
  static inline const char* name = "gate";
};

gate_actor::behavior_type gate(gate_actor::stateful_pointer<gate_state> self,
                               storage_actor storage,
                               std::shared_ptr<std::vector<size_t>> sizes) {
  self->state.storage = std::move(storage);
  self->state.sizes = std::move(sizes);
  return {
    [self](ingest_batch& batch) -> caf::result<atom::ok> {
      self->state.sizes->push_back(batch.events.size());
      auto rp = self->make_response_promise<atom::ok>();
      self->state.held.emplace_back(std::move(batch), rp);
      return rp;
    },
    // Opens the gate for the batches it holds.
    [self](atom::ok) {
      auto held = std::move(self->state.held);
      self->state.held.clear();
      for (auto& [batch, rp] : held)
        self->request(self->state.storage, caf::infinite, std::move(batch))
          .then([rp = rp](atom::ok) mutable { rp.deliver(atom::ok_v); },
                [rp = rp](const caf::error& err) mutable { rp.deliver(err); });
    },
  };
}

struct watcher_test : test::deterministic_fixture {
  std::filesystem::path dir;
  std::shared_ptr<storage::rocks_store> store;
  storage_actor writer;
  gate_actor sink;
  discovery_actor discovery;
  std::shared_ptr<test::discovery_log> reports
    = std::make_shared<test::discovery_log>();
  std::shared_ptr<std::vector<size_t>> sizes
    = std::make_shared<std::vector<size_t>>();
  watcher_actor aut;
  std::shared_ptr<test::fake_lister_watcher> api
    = std::make_shared<test::fake_lister_watcher>();
  kube::reflector_settings reflector;
  /// The watcher's wall clock.
  int64_t now_ns = 1'700'000'000'000'000'000;

  void SetUp() override {
    store = test::open_test_store("kws-watcher-actor", dir);
    ASSERT_TRUE(store);
    storage_config scfg;
    scfg.now = [this] { return now_ns; };
    writer = sys.spawn(storage_writer, scfg, store);
    sink = sys.spawn(gate, writer, sizes);
    discovery = sys.spawn(test::mock_discovery, reports);
    run();
  }

  /// Spawns the watcher over `api`; it asks STORAGE for its checkpoint.
  void spawn_watcher() {
    watcher_config cfg;
    cfg.type = pods;
    cfg.max_lag = 30s;
    cfg.now = [this] { return now_ns; };
    cfg.reflector = reflector;
    aut = sys.spawn(watcher, cfg, api, caf::actor_cast<ingest_sink_actor>(sink),
                    writer, discovery);
    run();
  }

  /// Starts the watcher; it lists `items` at `rv`, stores them and watches.
  /// `sizes` then holds only what comes after.
  void start(const std::vector<std::string>& items = {},
             const std::string& rv = "0") {
    spawn_watcher();
    ASSERT_TRUE(api->answer_list(test::list_page_answer(items, rv)));
    run();
    open_gate();
    sizes->clear();
    ASSERT_TRUE(api->open_watch()) << "no watch after the list was stored";
    run();
  }

  /// The watch stream yields `events`, read at the watcher's `now_ns`.
  void deliver(std::vector<watch_event> events) {
    api->stream->push(test::events_read(std::move(events), now_ns));
  }

  /// The watch stream breaks with `err`; the reflector backs off, then asks
  /// for a relist, which is answered with `items` at `rv`.
  void relist_after(caf::error err, const std::vector<std::string>& items,
                    const std::string& rv) {
    api->stream->push(test::stream_end(kube::stream_state::stopped, err));
    run();
    ASSERT_EQ(api->waiting_lists(), 0u) << "a relist without a backoff";
    advance(2s); // the longest first backoff: 800 ms plus full jitter
    ASSERT_TRUE(api->answer_list(test::list_page_answer(items, rv)));
    run();
  }

  void open_gate() {
    self->send(sink, atom::ok_v);
    run();
  }

  void TearDown() override {
    for (const auto& hdl :
         {caf::actor_cast<caf::actor>(aut), caf::actor_cast<caf::actor>(sink),
          caf::actor_cast<caf::actor>(discovery),
          caf::actor_cast<caf::actor>(writer)})
      if (hdl)
        self->send_exit(hdl, caf::exit_reason::user_shutdown);
    run();
    aut = nullptr;
    sink = nullptr;
    discovery = nullptr;
    writer = nullptr;
    store.reset();
    std::filesystem::remove_all(dir);
  }

  size_t stored() {
    event_query q;
    q.limit = 100'000;
    auto page = store->query(q);
    EXPECT_TRUE(page) << render(page.error());
    return page ? page->records.size() : 0;
  }

  static int64_t lag_ms() {
    return metrics::get_seconds_gauge("kws_watch_lag_seconds", "",
                                      "resource=\"pods\"")
      .value();
  }
};

TEST_F(watcher_test, events_arriving_during_a_write_go_out_in_one_batch) {
  start();
  deliver({modified("first", 1)});
  run();
  ASSERT_EQ(*sizes, std::vector<size_t>{1});
  // 1,000 deliveries while the first batch awaits its acknowledgement.
  for (int i = 0; i < 1000; ++i)
    deliver({modified("p" + std::to_string(i % 50), i + 2)});
  run();
  EXPECT_EQ(sizes->size(), 1u) << "a second batch before the first was durable";
  open_gate();
  ASSERT_EQ(sizes->size(), 2u);
  EXPECT_EQ(sizes->at(1), 1000u);
  open_gate();
  EXPECT_EQ(stored(), 1001u);
  auto cp = store->checkpoint("pods");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->resource_version, "1001");
  // Caught up: nothing in flight, no lag.
  EXPECT_EQ(lag_ms(), 0);
}

TEST_F(watcher_test, an_idle_watcher_sends_each_change_at_once) {
  start();
  for (int i = 0; i < 3; ++i) {
    deliver({modified("a", i + 1)});
    run();
    open_gate();
  }
  EXPECT_EQ(*sizes, (std::vector<size_t>{1, 1, 1}));
  EXPECT_EQ(stored(), 3u);
}

TEST_F(watcher_test, a_watcher_behind_its_stream_reports_it_and_recovers) {
  start();
  deliver({modified("a", 1)});
  run();
  now_ns += 31'000'000'000;
  advance(1s); // the lag tick
  EXPECT_EQ(lag_ms(), 31'000);
  ASSERT_FALSE(reports->reports.empty());
  EXPECT_TRUE(reports->reports.back().behind);
  EXPECT_EQ(reports->reports.back().lag_ms, 31'000);
  open_gate();
  EXPECT_EQ(lag_ms(), 0);
  EXPECT_FALSE(reports->reports.back().behind);
}

TEST_F(watcher_test, a_relist_after_a_broken_watch_records_a_gap) {
  // First list: no gap, nothing was watched before.
  start({pod("a", "uid-a", 5), pod("b", "uid-b", 6)}, "6");
  deliver({modified("a", 7)});
  run();
  open_gate();
  auto broke_at = now_ns;
  now_ns += 10'000'000'000;
  // The relist: a changed, b gone.
  relist_after(caf::make_error(ec::gone, "too old resource version: 7 (20)"),
               {pod("a", "uid-a", 19)}, "20");
  EXPECT_EQ(api->lists.back().resource_version, "7")
    << "the relist is not at the last resourceVersion seen";
  open_gate();
  auto gaps = store->coverage({});
  ASSERT_TRUE(gaps) << render(gaps.error());
  ASSERT_EQ(gaps->size(), 1u);
  auto& gap = gaps->front();
  EXPECT_EQ(gap.group_resource, "pods");
  EXPECT_EQ(gap.start_ns, broke_at);
  EXPECT_EQ(gap.end_ns, now_ns);
  EXPECT_EQ(gap.from_resource_version, "7");
  EXPECT_EQ(gap.to_resource_version, "20");
  EXPECT_NE(gap.reason.find("too old resource version"), std::string::npos)
    << gap.reason;
  // 2 creates, 1 update, then the relist's update of a and delete of b.
  EXPECT_EQ(stored(), 5u);
  // The watch resumes from the relist; a clean end of it later re-watches
  // from where it was and records nothing new.
  ASSERT_TRUE(api->open_watch());
  run();
  EXPECT_EQ(api->watches.back().resource_version, "20");
  advance(2s);
  api->stream->push(test::stream_end(kube::stream_state::closed));
  run();
  ASSERT_EQ(api->waiting_watches(), 1u) << "no re-watch after a clean end";
  EXPECT_EQ(api->watches.back().resource_version, "20");
  EXPECT_EQ(api->lists.size(), 2u) << "a clean end relisted";
  gaps = store->coverage({});
  ASSERT_TRUE(gaps);
  EXPECT_EQ(gaps->size(), 1u);
}

TEST_F(watcher_test, a_list_waits_for_the_events_delivered_before_it) {
  start({pod("a", "uid-a", 1)}, "1");
  deliver({modified("a", 2)});
  run();
  // The relist arrives while the update is still in flight: its diff must
  // see the update, or it would record the same version twice.
  relist_after(caf::make_error(ec::gone, "gone"), {pod("a", "uid-a", 2)}, "2");
  EXPECT_EQ(sizes->size(), 1u) << "the list went out before the update";
  open_gate();
  open_gate();
  ASSERT_EQ(sizes->size(), 2u);
  EXPECT_EQ(sizes->at(1), 0u) << "the relist found no change";
  EXPECT_EQ(stored(), 2u);
}

TEST_F(watcher_test, a_restarted_watcher_resumes_from_its_checkpoint) {
  start();
  deliver({modified("a", 41)});
  run();
  open_gate();
  self->send_exit(aut, caf::exit_reason::user_shutdown);
  run();
  EXPECT_TRUE(api->stream->closed) << "the stream outlived its watcher";
  api = std::make_shared<test::fake_lister_watcher>();
  spawn_watcher();
  EXPECT_TRUE(api->lists.empty()) << "a restart listed instead of resuming";
  ASSERT_EQ(api->watches.size(), 1u);
  EXPECT_EQ(api->watches[0].resource_version, "41");
  EXPECT_TRUE(api->watches[0].bookmarks);
}

TEST_F(watcher_test, an_expired_continue_token_lists_again_in_one_page) {
  spawn_watcher();
  ASSERT_EQ(api->lists.size(), 1u);
  EXPECT_EQ(api->lists[0].resource_version, "0");
  EXPECT_EQ(api->lists[0].limit, 500u);
  ASSERT_TRUE(api->answer_list(
    test::list_page_answer({pod("a", "uid-a", 3)}, "5", "token-1")));
  run();
  ASSERT_EQ(api->lists.size(), 2u);
  EXPECT_EQ(api->lists[1].continue_token, "token-1");
  EXPECT_EQ(api->lists[1].resource_version, "")
    << "a continue page repeated resourceVersion";
  // Compaction outran the pages: 410 Expired on the continue page.
  ASSERT_TRUE(api->answer_list(test::status_answer(410, "Expired")));
  run();
  ASSERT_EQ(api->lists.size(), 3u);
  EXPECT_EQ(api->lists[2].limit, 0u);
  EXPECT_EQ(api->lists[2].continue_token, "");
  EXPECT_EQ(api->lists[2].resource_version, "0");
  ASSERT_TRUE(api->answer_list(
    test::list_page_answer({pod("a", "uid-a", 3), pod("b", "uid-b", 9)}, "9")));
  run();
  open_gate();
  EXPECT_EQ(stored(), 2u) << "a page of the abandoned list was stored";
  ASSERT_TRUE(api->open_watch());
  EXPECT_EQ(api->watches.back().resource_version, "9");
}

TEST_F(watcher_test, a_full_window_stops_the_reads_until_the_store_catches_up) {
  reflector.max_unacked_events = 2;
  start();
  deliver({modified("a", 1), modified("b", 2)});
  run();
  EXPECT_FALSE(api->stream->reading())
    << "the stream was read on with a full window";
  open_gate();
  EXPECT_TRUE(api->stream->reading());
  deliver({modified("a", 3)});
  run();
  EXPECT_TRUE(api->stream->reading()) << "one event filled a window of two";
}

TEST_F(watcher_test, a_watch_refused_with_429_waits_as_long_as_retry_after) {
  start();
  advance(2s);
  api->stream->push(test::stream_end(kube::stream_state::closed));
  run();
  auto busy = test::status_answer(429, "TooManyRequests");
  busy.retry_after = 7s;
  ASSERT_TRUE(api->refuse_watch(busy));
  run();
  auto status = reports->reports.back();
  EXPECT_NE(status.last_error.find("429"), std::string::npos)
    << status.last_error;
  advance(6s);
  EXPECT_EQ(api->waiting_watches(), 0u) << "watched again before Retry-After";
  advance(1s);
  ASSERT_EQ(api->waiting_watches(), 1u);
  EXPECT_EQ(api->watches.back().resource_version, "0");
  EXPECT_TRUE(api->lists.size() == 1u) << "a 429 relisted";
}

} // namespace
} // namespace kws
