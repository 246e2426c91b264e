// The RocksDB history store: time-partitioned records with their indexes,
// retention by dropping partitions, watch checkpoints and live-object state,
// queries over snapshots, and online backup. No actor code: the storage
// actor owns one instance and decides when to write.
#pragma once

#include "messages/change_query.hpp"
#include "messages/coverage.hpp"
#include "messages/query.hpp"
#include "messages/resource_event.hpp"
#include "messages/watch.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kws::storage {

/// How the store opens its database.
struct store_options {
  /// Directory of the database; created when missing.
  std::string path;
  /// Fsync the write-ahead log on every write. Off still survives a killed
  /// process (the log is in the page cache), only not a power loss.
  bool sync = true;
  /// Shared block cache for all column families. Memtables, table readers
  /// and filter construction are charged to it, so this bounds all of
  /// RocksDB's memory (see storage/README.md).
  size_t block_cache_bytes = size_t{96} << 20;
  /// Memtable budget across all column families (part of the cache).
  size_t write_buffer_bytes = size_t{32} << 20;
  /// Threads that one query's reads are split over (`storage/read_pool.hpp`):
  /// the records of a large page, the partitions a query seeks. 1 reads on
  /// the caller only.
  unsigned read_threads = 4;
  /// A query seeks its partitions alone until one seek takes this long
  /// while its thread reads from the disk; the other read threads then take
  /// the partitions left. A seek whose blocks are cached takes a few
  /// microseconds, one from the page cache tens; a seek from the disk reads
  /// two or three blocks of about 70 us each here (README, Benchmarks).
  std::chrono::microseconds slow_seek{150};
  /// Ingest time in nanoseconds since the epoch; chooses the partition a
  /// write goes to. Defaults to the system clock; tests set a fixed day.
  std::function<int64_t()> clock;
  /// The id of the first record of a store that has given none yet; a
  /// store that has continues after its newest.
  uint64_t first_id = 1;
  /// Table files RocksDB may keep open (`max_open_files`); 0: half of the
  /// process's soft `RLIMIT_NOFILE` when the store opens
  /// (`open_files_budget`). A process with several stores shares that out.
  int open_files = 0;
};

/// The first id of a store made now (`store_options::first_id`), the
/// microseconds since the epoch: a server that starts over on a new volume,
/// or from an old backup, then gives ids above every id it gave before (its
/// old store would have had to store more than one record per microsecond),
/// so a consumer that keeps the newest id it holds (a hub) takes the new
/// records for new ones.
uint64_t first_id_now();

/// Last persisted resourceVersion per resource type (`group_resource()`),
/// written in the same batch as the records they cover.
using checkpoint_map = std::map<std::string, std::string>;

/// Named sequence numbers kept in `meta` (`export_cursor`): how far an
/// exporter sent, or which source records a hub holds.
using cursor_map = std::map<std::string, uint64_t>;

/// Outcome of one `write`.
struct write_result {
  /// Records stored.
  size_t written = 0;
  /// Creates and updates dropped because the store already holds that
  /// uid at that resourceVersion (a repeat after a reconnect or relist).
  size_t dropped = 0;
  /// Updates not stored because they changed only `status` and their type
  /// drops such updates (`drop_if_status_only`), by `group_resource`.
  std::map<std::string, size_t> status_dropped;
  /// Ids of the stored records, in input order (dropped events have none).
  std::vector<std::string> ids;
};

/// One stored record as an exporter sends it.
struct stored_record {
  uint64_t seq = 0;
  /// The object's uid (an Event's own uid for Event records).
  std::string uid;
  /// The contract record, `id` included.
  std::string json;
  /// For an Event record: the object it is about, as the correlator
  /// resolved it (plural resource); empty when unlinked. The initializers
  /// let records built as `{seq, uid, json}` leave them out.
  std::string link_ns = {};
  std::string link_resource = {};
  std::string link_name = {};
};

/// What `verify` found.
struct consistency_report {
  size_t records = 0;
  size_t index_entries = 0;
  /// `c` keys: per-object tallies of a partition (`change_tally.hpp`).
  size_t tallies = 0;
  /// One sentence per inconsistency; empty when the store is consistent.
  std::vector<std::string> problems;
};

/// The history store. Move-only; owns the database and its handles.
///
/// Thread safety: `write`, `drop_expired` and `flush` may run concurrently
/// with each other (they serialize) and with any number of readers
/// (`query`, `history`, `checkpoint`, `live_objects`, `backup`, `verify`,
/// `statistics`, `compacting`).
/// No call may outlive the store.
class rocks_store {
public:
  /// Opens (or creates) the store at `opts.path`.
  static caf::expected<rocks_store> open(store_options opts);

  /// Copies the backup in `backup_dir` into `target_dir`, which must not
  /// exist or be empty, and checks that the copy opens. Its next id is at
  /// least `first_id`: the records given after the backup was taken, which
  /// the copy does not hold, keep ids of their own.
  static caf::error restore(const std::string& backup_dir,
                            const std::string& target_dir,
                            uint64_t first_id = 1);

  rocks_store(rocks_store&&) noexcept;
  rocks_store& operator=(rocks_store&&) noexcept;
  rocks_store(const rocks_store&) = delete;
  rocks_store& operator=(const rocks_store&) = delete;
  ~rocks_store();

  /// Stores `events`, `checkpoints`, `gaps` and `cursors` in one atomic
  /// WriteBatch in the partition of the current day, assigning each record
  /// the next id (or keeping its `seq`) and updating the live-object state.
  /// Creates and updates that repeat the stored uid and resourceVersion of
  /// their object are dropped.
  caf::expected<write_result> write(const std::vector<resource_event>& events,
                                    const checkpoint_map& checkpoints = {},
                                    const std::vector<coverage_gap>& gaps = {},
                                    const cursor_map& cursors = {});

  /// The coverage gaps overlapping [q.start_ns, q.end_ns], by start: those
  /// stored, and for a window with a start, the time before each resource
  /// type was first watched ("not yet watched").
  caf::expected<std::vector<coverage_gap>>
  coverage(const coverage_query& q) const;

  /// How many of `coverage(q.window)` are of `q.resource` (`gap_of`).
  caf::expected<uint64_t> count_gaps(const gap_count_query& q) const;

  /// When each resource type was first watched (its first checkpoint), in
  /// nanoseconds since the epoch: `coverage` says "not yet watched" before.
  caf::expected<std::map<std::string, int64_t>> first_watch_times() const;

  /// A number that grows whenever `coverage` or `first_watch_times` may
  /// answer otherwise than before.
  uint64_t coverage_changes() const;

  /// Takes first-watch times another store noted (a hub's, from the
  /// server's coverage message): each replaces a later one held.
  caf::error note_first_watch_times(const std::map<std::string, int64_t>& at);

  /// The install's key of Secret digests (`secret_digest.hpp`), made at
  /// random and kept the first time it is asked for.
  caf::expected<std::string> secret_digest_key();

  /// Notes that the server is alive at `now_ns` (every write does too).
  caf::error mark_alive(int64_t now_ns);

  /// On start: stores a "server down" gap from the last moment the store
  /// knew the server alive to `now_ns` for every resource type with a
  /// checkpoint, and returns them.
  caf::expected<std::vector<coverage_gap>> record_downtime(int64_t now_ns);

  /// The last resourceVersion stored for a resource type ("" when none).
  caf::expected<watch_checkpoint>
  checkpoint(std::string_view group_resource) const;

  /// Every checkpoint: the resource types this store holds history of.
  caf::expected<checkpoint_map> checkpoints() const;

  /// Every live object of a resource type with its latest uid and
  /// resourceVersion, ordered by key.
  caf::expected<std::vector<live_object>>
  live_objects(std::string_view group_resource) const;

  /// Drops every partition whose whole day lies more than `retention_days`
  /// before `now_ns`. @returns the number of partitions dropped.
  caf::expected<size_t> drop_expired(int64_t now_ns, uint32_t retention_days);

  /// One page of records matching `q`, ordered by timestamp then id.
  caf::expected<event_page> query(const event_query& q) const;

  /// The records of one object and of the Events about it.
  caf::expected<object_history> history(const history_query& q) const;

  /// One record by id; `found == false` when unknown or expired.
  caf::expected<json_answer> record(const record_query& q) const;

  /// An RFC 6902 patch between two versions of one object
  /// (`store_changes.cpp` has the rules for absent ids).
  caf::expected<json_answer> diff(const diff_query& q) const;

  /// Every leaf of the version current at `q.at_ns` with the version that
  /// last changed it and its manager.
  caf::expected<json_answer> blame(const blame_query& q) const;

  /// Every object that existed at `q.window.end_ns`, each as its record
  /// current then, ordered by resource, namespace and name.
  caf::expected<json_answer> snapshot(const snapshot_query& q) const;

  /// One entry per object changed in the window with its net patch: spec
  /// changes and deletes first, then by Warning Events.
  caf::expected<json_answer> changes(const changes_query& q) const;

  /// Writes a consistent, openable copy of the store to `dir` while writes
  /// continue. `dir` lies inside `root` by its text (`rest::backup_target`);
  /// here the disk must agree: `dir` must not exist (`already_exists`), its
  /// parent must (`invalid_argument`; `root` itself is made when missing),
  /// and no symbolic link may lead out of `root` (`invalid_argument`).
  caf::error backup(const std::string& dir, const std::string& root) const;

  /// Flushes all memtables to SST files.
  caf::error flush();

  /// RocksDB's own statistics of every column family (levels, compaction
  /// bytes and time since open), as text for a person to read.
  std::string statistics() const;

  /// True while RocksDB flushes or compacts in the background or has a
  /// flush or compaction queued: reads then share CPU and disk with it, and
  /// the files of the newest day are still being merged.
  bool compacting() const;

  /// Where RocksDB's memory is, in bytes: the shared block cache (which
  /// the memtables are charged to, so it includes them), every column
  /// family's memtables, and the open table files' readers (index and
  /// filter blocks held outside the cache).
  struct memory_use {
    uint64_t block_cache = 0;
    uint64_t memtables = 0;
    uint64_t table_readers = 0;
  };
  memory_use memory() const;

  /// What the store holds on its volume, in bytes: the live table files of
  /// every column family, and what RocksDB estimates its compactions have
  /// yet to rewrite (it grows when ingest outpaces them).
  struct disk_use {
    uint64_t live_files = 0;
    uint64_t pending_compaction = 0;
  };
  disk_use disk() const;

  /// Checks that every record has all its index entries and every index
  /// entry has its record. Reads everything: a tool for tests and repair.
  caf::expected<consistency_report> verify() const;

  /// Names of the partitions, oldest first.
  std::vector<std::string> partitions() const;

  /// The sequence number the next stored record gets.
  uint64_t next_sequence() const;

  /// Up to `max` stored records with a sequence number above `after`, in
  /// sequence order (the order they were written in): what an exporter
  /// (`actors/exporter.hpp`) has yet to send. Reads one snapshot, so a batch
  /// is seen whole or not at all.
  caf::expected<std::vector<stored_record>> records_after(uint64_t after,
                                                          size_t max) const;

  /// The cursor `name` (0: never set): the sequence number up to which the
  /// exporter `name` has sent every record, or a hub's mark of what it holds
  /// of one source. Kept in `meta`, so that it survives restarts.
  caf::expected<uint64_t> export_cursor(std::string_view name) const;

  /// Moves the exporter `name`'s cursor to `seq` (synced).
  caf::error set_export_cursor(std::string_view name, uint64_t seq);

  struct impl;

private:
  explicit rocks_store(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

/// Key of an object in the live-object state: "<namespace>/<name>", or
/// "<name>" for cluster-scoped objects.
std::string live_key(std::string_view ns, std::string_view name);

/// "<plural>" for the core group, "<plural>.<group>" otherwise.
std::string group_resource(std::string_view resource, std::string_view group);

} // namespace kws::storage
