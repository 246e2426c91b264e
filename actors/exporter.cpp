// The EXPORTER treats the store as its outbox: it reads the records after
// its cursor, sends them, waits for the broker's acknowledgement and only
// then moves the cursor (kept in the store). A crash or a broker outage
// therefore loses nothing: the records wait in RocksDB, not in memory, and
// are sent again from the cursor. Memory stays one batch whatever the
// backlog, and the watchers never wait for Kafka. A record sent again after
// a crash between acknowledgement and cursor carries the same `id`.
#include "actors/exporter.hpp"

#include "storage/coverage_message.hpp"
#include "storage/export_message.hpp"
#include "storage/rocks_store.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"
#include "util/thread_name.hpp"

#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<exporter_state>);

namespace {

struct export_metrics {
  metrics::counter& records = metrics::get_counter(
    "kws_export_records_total", "Records Kafka acknowledged.");
  metrics::counter& failures = metrics::get_counter(
    "kws_export_failures_total",
    "Batches not wholly acknowledged, sent again from the cursor.");
  metrics::counter& unreadable = metrics::get_counter(
    "kws_export_unreadable_records_total",
    "Stored records that could not be made into a message and were skipped.");
  metrics::gauge& lag
    = metrics::get_gauge("kws_export_lag_records",
                         "Records stored and not yet acknowledged by Kafka.");
  metrics::histogram& batch = metrics::get_histogram(
    "kws_export_batch_duration_seconds",
    "Time from sending a batch to its last acknowledgement.");
};

export_metrics& counters() {
  static export_metrics m;
  return m;
}

} // namespace

caf::error exporter_state::send_coverage() {
  // Read before the coverage: a change after it is seen next round.
  auto changes = store->coverage_changes();
  if (coverage_seen == changes)
    return {};
  auto gaps = store->coverage(coverage_query{});
  if (!gaps)
    return gaps.error();
  auto firsts = store->first_watch_times();
  if (!firsts)
    return firsts.error();
  if (gaps->empty() && firsts->empty() && coverage_sent.empty()) {
    coverage_seen = changes;
    return {};
  }
  auto msg = storage::coverage_message(*gaps, *firsts, config.cluster);
  if (msg.value != coverage_sent) {
    auto delivery = send({msg});
    if (delivery.error)
      return delivery.error;
    coverage_sent = std::move(msg.value);
  }
  coverage_seen = changes;
  return {};
}

std::chrono::milliseconds exporter_state::round() {
  auto& m = counters();
  auto fail = [&](const caf::error& err, size_t acknowledged) {
    m.failures.inc();
    if (backoff.count() == 0)
      KWS_WARN("export to Kafka failed after {} records of the batch, "
               "retrying from record {}: {}",
               acknowledged, cursor + 1, err);
    backoff = std::clamp(backoff * 2, config.min_backoff, config.max_backoff);
    return backoff;
  };
  // Read before the records: every record up to `stored` is then in what
  // `records_after` sees, so a batch that is not full holds all of them.
  // Sequence numbers have holes (updates dropped as status-only), which the
  // cursor passes only that way.
  auto stored = store->next_sequence() - 1;
  auto records = store->records_after(cursor, config.batch_size);
  if (!records)
    return fail(records.error(), 0);
  auto whole = records->size() < config.batch_size;
  // Counted from the first record waiting, not from the cursor: ids start
  // far above 0 (storage::first_id_now).
  uint64_t waiting = whole || records->empty()
    ? records->size()
    : stored - records->front().seq + 1;
  m.lag.set(static_cast<int64_t>(waiting));
  // Before the records, and whether or not there are any.
  if (auto err = send_coverage())
    return fail(err, 0);
  if (records->empty()) {
    if (stored > cursor) {
      if (auto err = store->set_export_cursor(config.cursor_name, stored))
        return fail(err, 0);
      cursor = stored;
    }
    return config.idle_interval;
  }
  std::vector<storage::kafka_message> batch;
  std::vector<uint64_t> seqs;
  batch.reserve(records->size());
  seqs.reserve(records->size());
  for (const auto& r : *records) {
    auto msg = storage::export_message(r, config.cluster);
    if (!msg) {
      // Sending it again cannot help; holding the cursor would stop export.
      m.unreadable.inc();
      KWS_ERROR("export to Kafka skips record {}: {}", r.seq, msg.error());
      continue;
    }
    batch.push_back(std::move(*msg));
    seqs.push_back(r.seq);
  }
  auto started = std::chrono::steady_clock::now();
  auto delivery = batch.empty() ? storage::kafka_delivery{} : send(batch);
  m.batch.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
      .count());
  // The cursor may pass skipped records only up to the first message not
  // acknowledged.
  auto next = delivery.error && delivery.acknowledged < seqs.size()
    ? seqs[delivery.acknowledged] - 1
    : (whole ? std::max(records->back().seq, stored) : records->back().seq);
  if (next > cursor) {
    if (auto err = store->set_export_cursor(config.cursor_name, next))
      return fail(err, delivery.acknowledged);
    cursor = next;
  }
  m.records.inc(delivery.acknowledged);
  // Without an error every record of the batch is passed, skipped ones too.
  uint64_t passed = delivery.error ? delivery.acknowledged : records->size();
  m.lag.set(static_cast<int64_t>(waiting - std::min(waiting, passed)));
  if (delivery.error)
    return fail(delivery.error, delivery.acknowledged);
  if (backoff.count() != 0)
    KWS_INFO("export to Kafka resumed at record {}", cursor);
  backoff = std::chrono::milliseconds{0};
  return whole ? config.idle_interval : std::chrono::milliseconds{0};
}

exporter_actor::behavior_type
exporter(exporter_actor::stateful_pointer<exporter_state> self,
         exporter_config cfg, std::shared_ptr<storage::rocks_store> store,
         export_send send) {
  if (self->getf(caf::abstract_actor::is_detached_flag))
    name_this_thread("kws.export");
  auto& st = self->state;
  st.config = std::move(cfg);
  st.store = std::move(store);
  st.send = std::move(send);
  if (auto cursor = st.store->export_cursor(st.config.cursor_name); cursor) {
    st.cursor = *cursor;
    KWS_INFO("export to Kafka as cluster {} starts after record {}",
             st.config.cluster, st.cursor);
    self->send(self, atom::internal_v, atom::tick_v);
  } else {
    KWS_ERROR("export to Kafka cannot start: {}", cursor.error());
    self->quit(cursor.error());
  }
  return {
    [self](atom::internal, atom::tick) {
      auto wait = self->state.round();
      if (wait.count() == 0)
        self->send(self, atom::internal_v, atom::tick_v);
      else
        self->delayed_send(self, wait, atom::internal_v, atom::tick_v);
    },
  };
}

} // namespace kws
