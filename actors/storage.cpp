// STORAGE collects records and writes them in one WriteBatch together with
// the watchers' checkpoints, then answers every producer of that batch. The
// first record of a batch sends STORAGE a flush request to itself, which
// queues behind every batch already in the mailbox: what arrived while the
// previous write ran goes out in the next write (group commit), and a lone
// record is written at once. A full batch is written without waiting. The
// request carries the batch generation, so one for a batch that was already
// written is ignored.
// A failed write answers its producers with the error; they keep their
// records and send them again.
#include "actors/storage.hpp"

#include "storage/rocks_store.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"
#include "util/process_memory.hpp"
#include "util/thread_name.hpp"

#include <caf/stateful_actor.hpp>

#include <iterator>
#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<storage_state>);

namespace {

int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// Where the store's memory and volume go, for /metrics: RocksDB's part of
// the RSS, and the disk a PersistentVolume must hold.
void publish_store_use(const storage::rocks_store& store) {
  using metrics::get_gauge;
  // The memtables are charged to the block cache, so `block_cache`
  // includes them, and RocksDB's total is block_cache + table_readers.
  static const char* memory_help
    = "RocksDB's memory, by part: block cache (memtables included), "
      "memtables, table readers.";
  static auto& cache = get_gauge("kws_storage_memory_bytes", memory_help,
                                 "part=\"block_cache\"");
  static auto& memtables
    = get_gauge("kws_storage_memory_bytes", memory_help, "part=\"memtables\"");
  static auto& readers = get_gauge("kws_storage_memory_bytes", memory_help,
                                   "part=\"table_readers\"");
  static auto& live = get_gauge("kws_storage_disk_bytes",
                                "Bytes of the store's live table files.");
  static auto& pending
    = get_gauge("kws_storage_pending_compaction_bytes",
                "Bytes RocksDB estimates its compactions have yet to rewrite.");
  auto m = store.memory();
  cache.set(static_cast<int64_t>(m.block_cache));
  memtables.set(static_cast<int64_t>(m.memtables));
  readers.set(static_cast<int64_t>(m.table_readers));
  auto d = store.disk();
  live.set(static_cast<int64_t>(d.live_files));
  pending.set(static_cast<int64_t>(d.pending_compaction));
}

} // namespace

uint64_t storage_state::flush() {
  ++generation;
  if (pending.empty() && pending_checkpoints.empty() && pending_gaps.empty()) {
    for (auto& rp : waiting)
      rp.deliver(atom::ok_v);
    waiting.clear();
    return 0;
  }
  static auto& num_batches = metrics::get_counter(
    "kws_storage_batches_total", "Batches written to RocksDB.");
  static auto& num_errors = metrics::get_counter(
    "kws_storage_errors_total", "Failed RocksDB batch writes.");
  static auto& num_dropped = metrics::get_counter(
    "kws_storage_duplicates_dropped_total",
    "Records dropped because their object's resourceVersion was stored.");
  static auto& batch_latency = metrics::get_histogram(
    "kws_storage_batch_duration_seconds", "Time to write one batch.");
  static auto& batch_records = metrics::get_counter(
    "kws_storage_records_total", "Records written to RocksDB.");
  auto started = std::chrono::steady_clock::now();
  auto result = store->write(pending, pending_checkpoints, pending_gaps);
  batch_latency.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
      .count());
  auto promises = std::move(waiting);
  waiting.clear();
  if (!result) {
    num_errors.inc();
    KWS_ERROR("Error storing event: {} records lost their write: {}",
              pending.size(), result.error());
    pending.clear();
    pending_checkpoints.clear();
    pending_gaps.clear();
    for (auto& rp : promises)
      rp.deliver(result.error());
    return 0;
  }
  num_batches.inc();
  batch_records.inc(result->written);
  num_dropped.inc(result->dropped);
  for (auto& [resource, n] : result->status_dropped)
    metrics::get_counter("kws_status_updates_dropped_total",
                         "Updates not stored because they changed only "
                         "status and the type is configured with "
                         "statusUpdates: drop.",
                         "resource=\"" + resource + "\"")
      .inc(n);
  std::map<std::string_view, uint64_t> per_resource;
  for (auto& ev : pending)
    ++per_resource[ev.resource];
  for (auto& [resource, n] : per_resource)
    metrics::get_counter("kws_events_ingested_total",
                         "Records ingested per resource type.",
                         "resource=\"" + std::string{resource} + "\"")
      .inc(n);
  pending.clear();
  pending_checkpoints.clear();
  pending_gaps.clear();
  for (auto& rp : promises)
    rp.deliver(atom::ok_v);
  // Writing is what makes RocksDB churn through memory; this is where the
  // memory it freed goes back.
  auto now = std::chrono::steady_clock::now();
  if (config.release_interval.count() > 0
      && now - last_release >= config.release_interval) {
    last_release = now;
    process_memory::release_free();
  }
  return result->written;
}

void storage_state::run_retention() {
  static auto& num_runs
    = metrics::get_counter("kws_retention_runs_total", "Retention runs.");
  static auto& num_failures = metrics::get_counter("kws_retention_errors_total",
                                                   "Failed retention runs.");
  static auto& num_dropped = metrics::get_counter(
    "kws_retention_partitions_dropped_total", "Expired partitions dropped.");
  num_runs.inc();
  auto dropped = store->drop_expired(config.now(), config.retention_days);
  if (!dropped) {
    num_failures.inc();
    KWS_ERROR("GC error: {}", dropped.error());
  } else if (*dropped > 0) {
    num_dropped.inc(*dropped);
    KWS_INFO("storage dropped {} expired partitions", *dropped);
  }
  self->delayed_send(self, config.retention_interval, atom::internal_v,
                     atom::retention_v);
}

void storage_state::note_alive() {
  if (auto err = store->mark_alive(config.now()))
    KWS_WARN("storage cannot note that the server is alive: {}", err);
  publish_store_use(*store);
  self->delayed_send(self, config.alive_interval, atom::internal_v,
                     atom::tick_v);
}

storage_actor::behavior_type
storage_writer(storage_actor::stateful_pointer<storage_state> self,
               storage_config cfg,
               std::shared_ptr<storage::rocks_store> store) {
  if (self->getf(caf::abstract_actor::is_detached_flag))
    name_this_thread("kws.storage"); // its own thread, for top -H and perf
  if (!cfg.now)
    cfg.now = wall_clock_ns;
  self->state.config = std::move(cfg);
  self->state.store = std::move(store);
  // The time since the store last knew the server alive was not watched.
  if (auto gaps = self->state.store->record_downtime(self->state.config.now());
      !gaps)
    KWS_WARN("storage cannot record the time the server was down: {}",
             gaps.error());
  else if (!gaps->empty())
    KWS_INFO("storage: the server was down for {} s; coverage gaps for {} "
             "resource types",
             (gaps->front().end_ns - gaps->front().start_ns) / 1'000'000'000,
             gaps->size());
  self->state.run_retention();
  self->state.note_alive();
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    // Flush what producers are still waiting for before going away, and
    // note when that was: downtime starts here.
    self->state.flush();
    if (auto err = self->state.store->mark_alive(self->state.config.now()))
      KWS_WARN("storage cannot note the time of shutdown: {}", err);
    self->quit(msg.reason);
  });
  return {
    // Appends records; replies once they are durable.
    [self](ingest_batch& batch) -> caf::result<atom::ok> {
      auto& st = self->state;
      bool was_empty = st.pending.empty() && st.waiting.empty();
      for (auto& ev : batch.events)
        st.pending.push_back(std::move(ev));
      if (!batch.resource_version.empty())
        st.pending_checkpoints[batch.group_resource]
          = std::move(batch.resource_version);
      std::move(batch.gaps.begin(), batch.gaps.end(),
                std::back_inserter(st.pending_gaps));
      auto rp = self->make_response_promise<atom::ok>();
      st.waiting.push_back(rp);
      if (st.pending.size() >= st.config.batch_size)
        st.flush();
      else if (was_empty)
        self->send(self, atom::internal_v, atom::flush_v, st.generation);
      return rp;
    },
    // Writes what is buffered.
    [self](atom::flush) -> uint64_t { return self->state.flush(); },
    // The live objects of a resource type.
    [self](atom::live,
           const std::string& gr) -> caf::result<std::vector<live_object>> {
      // A relist diffs against everything received before it.
      self->state.flush();
      auto result = self->state.store->live_objects(gr);
      if (!result)
        return result.error();
      return std::move(*result);
    },
    // The persisted resourceVersion of a resource type.
    [self](atom::checkpoint,
           const std::string& gr) -> caf::result<watch_checkpoint> {
      auto result = self->state.store->checkpoint(gr);
      if (!result)
        return result.error();
      return std::move(*result);
    },
    // A consistent backup.
    [self](atom::backup, const std::string& dir,
           const std::string& root) -> caf::result<std::string> {
      if (auto err = self->state.store->backup(dir, root))
        return err;
      KWS_INFO("storage wrote a backup to {}", dir);
      return dir;
    },
    // INTERNAL: the flush request of a batch generation.
    [self](atom::internal, atom::flush, uint64_t gen) {
      if (gen == self->state.generation)
        self->state.flush();
    },
    // INTERNAL: time to drop expired partitions.
    [self](atom::internal, atom::retention) { self->state.run_retention(); },
    // INTERNAL: time to note that the server is alive.
    [self](atom::internal, atom::tick) { self->state.note_alive(); },
  };
}

} // namespace kws
