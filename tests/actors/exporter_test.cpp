// EXPORTER over a real RocksDB store, with the broker's side injected and
// virtual time: the cursor moves only past what was acknowledged, a failed
// batch goes again from its first missing record after a backoff that
// doubles, and a new EXPORTER on the same store goes on from the cursor.
#include "actors/exporter.hpp"

#include "storage/record_builder.hpp"
#include "storage/rocks_store.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/test_store.hpp"
#include "util/metrics.hpp"

#include <filesystem>

namespace kws {
namespace {

using namespace std::chrono_literals;
using storage::kafka_delivery;
using storage::kafka_message;

resource_event make_event(int n) {
  return test::configmap_record("cm" + std::to_string(n), n);
}

coverage_gap server_down_gap() {
  coverage_gap down;
  down.start_ns = 1'700'000'000'000'000'000;
  down.end_ns = down.start_ns + 60'000'000'000;
  down.reason = "server down";
  return down;
}

struct exporter_test : test::deterministic_fixture {
  std::filesystem::path dir;
  std::shared_ptr<storage::rocks_store> store;
  exporter_actor aut;
  int written = 0;
  /// Every batch the broker got, in order.
  std::vector<std::vector<kafka_message>> sent;
  /// How the broker answers a batch; everything acknowledged when unset.
  std::function<kafka_delivery(const std::vector<kafka_message>&)> answer;

  void SetUp() override {
    store = test::open_test_store("kws-exporter", dir);
    ASSERT_TRUE(store);
  }

  void TearDown() override {
    stop();
    store.reset();
    std::filesystem::remove_all(dir);
  }

  void store_records(int n) {
    std::vector<resource_event> events;
    for (int i = 0; i < n; ++i)
      events.push_back(make_event(++written));
    ASSERT_TRUE(store->write(events));
  }

  void start(size_t batch_size = 1000) {
    exporter_config cfg;
    cfg.cluster = "c1";
    cfg.cursor_name = "kafka/t";
    cfg.batch_size = batch_size;
    cfg.min_backoff = 1s;
    cfg.max_backoff = 4s;
    aut = sys.spawn(
      exporter, cfg, store, [this](const std::vector<kafka_message>& batch) {
        sent.push_back(batch);
        return answer ? answer(batch) : kafka_delivery{batch.size(), {}};
      });
    run();
  }

  void stop() {
    if (aut)
      self->send_exit(aut, caf::exit_reason::user_shutdown);
    run();
    aut = nullptr;
  }

  uint64_t cursor() { return store->export_cursor("kafka/t").value(); }

  /// The `id`s of one batch, as numbers.
  static std::vector<uint64_t> ids(const std::vector<kafka_message>& batch) {
    std::vector<uint64_t> out;
    for (const auto& m : batch)
      out.push_back(std::stoull(m.value.substr(7, 16), nullptr, 16));
    return out;
  }
};

kafka_delivery failed(size_t acknowledged) {
  return {acknowledged, caf::make_error(ec::transport_error, "broker down")};
}

TEST_F(exporter_test, sends_every_stored_record_in_order_then_what_comes_next) {
  store_records(5);
  start(2);
  // Full batches go one after the other without waiting.
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(ids(sent[0]), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(ids(sent[1]), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(ids(sent[2]), (std::vector<uint64_t>{5}));
  EXPECT_EQ(sent[0][0].key, "c1/uid-cm1");
  EXPECT_NE(sent[0][0].value.find(R"("cluster":"c1")"), std::string::npos);
  EXPECT_EQ(cursor(), 5u);
  store_records(2);
  run();
  EXPECT_EQ(sent.size(), 3u) << "waits for its idle interval";
  advance(200ms);
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(ids(sent[3]), (std::vector<uint64_t>{6, 7}));
  EXPECT_EQ(cursor(), 7u);
}

TEST_F(exporter_test,
       a_partly_acknowledged_batch_goes_again_from_the_first_missing) {
  store_records(5);
  answer = [](const std::vector<kafka_message>&) { return failed(2); };
  start();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(cursor(), 2u) << "the acknowledged prefix is done";
  answer = nullptr;
  advance(999ms);
  EXPECT_EQ(sent.size(), 1u) << "no retry before the backoff";
  advance(1ms);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(ids(sent[1]), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(cursor(), 5u);
}

TEST_F(exporter_test, failures_back_off_doubling_up_to_the_limit) {
  store_records(3);
  answer = [](const std::vector<kafka_message>&) { return failed(0); };
  start();
  ASSERT_EQ(sent.size(), 1u);
  for (auto [wait, calls] : {std::pair{1s, 2u}, std::pair{2s, 3u},
                             std::pair{4s, 4u}, std::pair{4s, 5u}}) {
    advance(wait - 1ms);
    EXPECT_EQ(sent.size(), calls - 1) << "before a wait of " << wait.count();
    advance(1ms);
    EXPECT_EQ(sent.size(), calls);
  }
  EXPECT_EQ(cursor(), 0u) << "nothing acknowledged, nothing forgotten";
  for (const auto& batch : sent)
    EXPECT_EQ(ids(batch), (std::vector<uint64_t>{1, 2, 3}));
  // Once the broker answers, the backoff starts over.
  answer = nullptr;
  advance(4s);
  EXPECT_EQ(cursor(), 3u);
}

TEST_F(exporter_test, the_cursor_passes_the_ids_of_dropped_status_updates) {
  store_records(1);
  // An update that changed only `status` of a type that drops those takes
  // an id and stores nothing: the last id stored has no record.
  auto json
    = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":)"
      R"("cm1","namespace":"default","uid":"uid-cm1",)"
      R"("resourceVersion":"9"},"data":{"k":"v"},"status":{"phase":"x"}})";
  auto update = storage::build_record(test::configmaps_type, verb::update, json,
                                      1'700'000'000'000'000'009);
  ASSERT_TRUE(update);
  update->drop_if_status_only = true;
  auto res = store->write({*update});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->written, 0u);
  ASSERT_EQ(store->next_sequence(), 3u) << "the dropped update took id 2";
  start();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(ids(sent[0]), (std::vector<uint64_t>{1}));
  EXPECT_EQ(cursor(), 2u) << "nothing is left to send";
  EXPECT_EQ(metrics::get_gauge("kws_export_lag_records", "").value(), 0);
}

// A server's store starts its ids at the microseconds since the epoch: the
// lag counts the records waiting, not the ids since 0.
TEST_F(exporter_test, the_lag_counts_records_waiting_whatever_their_ids) {
  store.reset();
  std::filesystem::remove_all(dir);
  storage::store_options opts;
  opts.path = dir.string();
  opts.first_id = 1'000'000;
  auto opened = storage::rocks_store::open(opts);
  ASSERT_TRUE(opened) << render(opened.error());
  store = std::make_shared<storage::rocks_store>(std::move(*opened));
  store_records(5);
  auto& lag = metrics::get_gauge("kws_export_lag_records", "");
  answer = [](const std::vector<kafka_message>&) { return failed(0); };
  start(2);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(ids(sent[0]), (std::vector<uint64_t>{1'000'000, 1'000'001}));
  EXPECT_EQ(lag.value(), 5) << "none of five records was acknowledged";
  answer = nullptr;
  advance(1s);
  EXPECT_EQ(cursor(), 1'000'004u);
  EXPECT_EQ(lag.value(), 0);
}

// The store's coverage gaps go out whole whenever they changed, before the
// records; a list the broker did not take goes again.
TEST_F(exporter_test, coverage_gaps_go_out_when_they_change) {
  auto down = server_down_gap();
  ASSERT_TRUE(store->write({}, {}, {down}));
  store_records(2);
  auto coverage = [](const std::vector<kafka_message>& batch) {
    return batch.size() == 1 && batch[0].key == "c1/coverage";
  };
  start();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(coverage(sent[0]));
  EXPECT_NE(sent[0][0].value.find(R"("reason":"server down")"),
            std::string::npos)
    << sent[0][0].value;
  EXPECT_EQ(ids(sent[1]), (std::vector<uint64_t>{1, 2}));
  // Nothing changed: nothing more goes out.
  advance(1s);
  ASSERT_EQ(sent.size(), 2u);
  // A new gap: the whole list again, once the broker takes it.
  auto relist = down;
  relist.group_resource = "pods";
  relist.reason = "410 Gone";
  ASSERT_TRUE(store->write({}, {}, {relist}));
  answer = [](const std::vector<kafka_message>&) { return failed(0); };
  advance(1s);
  ASSERT_EQ(sent.size(), 3u);
  answer = nullptr;
  advance(2s);
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_TRUE(coverage(sent[3]));
  EXPECT_EQ(sent[3][0].value, sent[2][0].value);
  EXPECT_NE(sent[3][0].value.find(R"("reason":"410 Gone")"), std::string::npos);
  advance(2s);
  EXPECT_EQ(sent.size(), 4u);
}

// A broker that refuses everything (a wrong password) refuses the coverage
// message first: the records waiting still show in the lag.
TEST_F(exporter_test, a_refused_coverage_message_still_shows_the_lag) {
  auto down = server_down_gap();
  ASSERT_TRUE(store->write({}, {}, {down}));
  store_records(3);
  answer = [](const std::vector<kafka_message>&) { return failed(0); };
  start();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0][0].key, "c1/coverage");
  EXPECT_EQ(metrics::get_gauge("kws_export_lag_records", "").value(), 3);
  EXPECT_EQ(cursor(), 0u);
}

TEST_F(exporter_test, a_new_exporter_goes_on_after_the_cursor) {
  store_records(3);
  start();
  ASSERT_EQ(sent.size(), 1u);
  stop();
  store_records(2);
  start();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(ids(sent[1]), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(cursor(), 5u);
}

} // namespace
} // namespace kws
