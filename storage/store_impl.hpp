// Internals shared by rocks_store.cpp, store_query.cpp, maintenance.cpp and
// the store's other translation units. Not part of the public API: only they
// include it.
#pragma once

#include "storage/change_enricher.hpp"
#include "storage/failed_opens.hpp"
#include "storage/gap_book.hpp"
#include "storage/live_state.hpp"
#include "storage/read_pool.hpp"
#include "storage/record_cooling.hpp"
#include "storage/rocks_store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace kws::storage {

/// One day partition as readers see it.
struct partition_ref {
  std::string name;
  /// Days since the epoch (UTC) of the ingest day.
  int64_t day = 0;
  /// The index entries. Shared so a reader keeps a dropped partition
  /// readable until it is done.
  std::shared_ptr<rocksdb::ColumnFamilyHandle> cf;
  /// The records (`r` keys): their own column family, so that compactions
  /// of the index entries never rewrite record bytes and records, written
  /// in time order, rarely overlap between files. The same as `cf` for a
  /// partition written before records had their own column family.
  std::shared_ptr<rocksdb::ColumnFamilyHandle> records;

  /// The partition's distinct column families, records first.
  std::vector<rocksdb::ColumnFamilyHandle*> families() const {
    if (records == cf)
      return {cf.get()};
    return {records.get(), cf.get()};
  }
  /// Smallest and largest record timestamp in the partition (min > max when
  /// empty). Records are partitioned by ingest day, but a create from the
  /// first list carries the object's creation time, so these bounds, not
  /// the day, decide which partitions a time range must scan.
  int64_t min_ts = 0;
  int64_t max_ts = 0;
  /// Every record of the partition is in its `c` tallies: it was created
  /// by a store that writes them (`meta_tally_from_key`).
  bool tallied = false;
  /// Its `t` entries name each record's object and the object an Event is
  /// about, so a window over every namespace reads them in time order
  /// (`meta_typed_from_key`).
  bool typed = false;
  /// Its `u` and `o` entries mark each object's first record there, not
  /// every record, and its `h` entries hold the uid: the records of a uid
  /// or a name are the `h` runs of the objects those entries name
  /// (`meta_objects_once_from_key`).
  bool objects_once = false;
};

/// A consistent read: one snapshot plus the partitions at that moment.
struct read_view {
  rocksdb::DB* db = nullptr;
  const rocksdb::Snapshot* snapshot = nullptr;
  std::vector<partition_ref> parts;
  std::shared_ptr<rocksdb::ColumnFamilyHandle> meta_cf;
  /// Helps the reads of one query overlap; owned by the store.
  read_pool* pool = nullptr;
  /// `store_options::slow_seek`.
  std::chrono::microseconds slow_seek{};
  /// The store's failed opens (`failed_opens.hpp`), and their count when
  /// the view was taken.
  const failed_open_counter* opens = nullptr;
  uint64_t failed_opens_before = 0;

  read_view() = default;
  read_view(const read_view&) = delete;
  read_view& operator=(const read_view&) = delete;
  read_view(read_view&& other) noexcept
      : db(other.db), snapshot(std::exchange(other.snapshot, nullptr)),
        parts(std::move(other.parts)), meta_cf(std::move(other.meta_cf)),
        pool(other.pool), slow_seek(other.slow_seek), opens(other.opens),
        failed_opens_before(other.failed_opens_before) {}
  ~read_view();

  /// `answer`, unless a file failed to open since the view was taken: the
  /// answer may then lack what that file holds.
  template <class T>
  caf::expected<T> vouch(caf::expected<T> answer) const {
    if (auto err = files_failed(opens, failed_opens_before))
      return err;
    return answer;
  }

  /// Read options pinned to the snapshot.
  rocksdb::ReadOptions options() const {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    return ro;
  }
};

/// One event a write stores, and the version before it.
struct planned_record {
  const resource_event* event = nullptr;
  uint64_t seq = 0;
  std::string live_key;
  /// The event of this batch before it, or else the stored version before
  /// it (updates only; neither when there is none).
  const resource_event* previous_in_batch = nullptr;
  std::optional<live_state> previous_stored;
  /// Filled by `enrich`: the record to store (without id) and its class.
  std::string record;
  change_facts facts;
};

struct rocks_store::impl {
  using cf_ptr = std::shared_ptr<rocksdb::ColumnFamilyHandle>;

  store_options opts;
  std::shared_ptr<rocksdb::Cache> cache;
  rocksdb::ColumnFamilyOptions index_opts;
  rocksdb::ColumnFamilyOptions record_opts;
  /// Of the newest day's records (`record_cooling.hpp`).
  rocksdb::ColumnFamilyOptions hot_record_opts;
  /// `rocks_options::finish_records` and `hot_compression`.
  family_settings finish_records;
  std::string hot_compression;
  /// The file system the database reads through; outlives it.
  counted_files files;
  std::unique_ptr<rocksdb::DB> db;
  /// Rewrites finished days and merges a crowded day being written
  /// (`record_cooling.hpp`); stops before `db` closes. Null when records
  /// compress alike at every level.
  std::unique_ptr<record_cooler> cooler;
  /// Tells `cooler` of each flush and compaction.
  std::shared_ptr<records_listener> cooling_events
    = std::make_shared<records_listener>();
  cf_ptr default_cf;
  cf_ptr meta_cf;
  /// Column families of unknown names; RocksDB requires opening them.
  std::vector<cf_ptr> other_cfs;
  /// Guards `parts` (and the bounds in it).
  mutable std::shared_mutex mtx;
  /// Partitions by day, oldest first.
  std::map<int64_t, partition_ref> parts;
  /// Serializes writers (write, drop_expired).
  std::mutex write_mtx;
  /// Resource types known to have a first-watch time. @pre `write_mtx`.
  std::unordered_set<std::string> first_watched;
  /// Sequence number of the next record; ids are never reused.
  std::atomic<uint64_t> next_seq = 1;
  /// `opts.read_threads - 1` helpers for the readers' disk waits.
  std::unique_ptr<read_pool> pool;
  /// The stored coverage gaps, in memory (`gap_book.hpp`); changed only
  /// after the write that stores or drops them succeeded.
  gap_book gaps;
  /// Bumped after each write that changed the gaps or a first-watch time,
  /// so a reader of coverage (the exporter) skips rounds without a change.
  std::atomic<uint64_t> coverage_changes = 0;

  impl() = default;
  ~impl();

  /// Wraps a handle so it is destroyed through the database.
  cf_ptr wrap(rocksdb::ColumnFamilyHandle* h);

  /// Creates the column family `name`.
  caf::expected<cf_ptr>
  create_family(const std::string& name,
                const rocksdb::ColumnFamilyOptions& options);

  /// The partition for `day`, created when missing. @pre holds `write_mtx`.
  caf::expected<partition_ref> partition_for(int64_t day);

  /// Queues the rewrite of every day but the newest whose records hold
  /// files written while it was the newest (`record_cooling.hpp`).
  void finish_older_days();

  /// How each column family of `names` opens: the newest day's records
  /// as the day being written.
  std::vector<rocksdb::ColumnFamilyDescriptor>
  descriptors(const std::vector<std::string>& names) const;

  /// Starts `cooler` for a store that may keep `open_files` table files
  /// open, and queues what the last run left to rewrite.
  void start_cooler(int open_files);

  /// Stops `cooler`, and what RocksDB tells it.
  void stop_cooler();

  /// The records family of the newest day if it is named
  /// `records_family`, else null.
  cf_ptr newest_records(const std::string& records_family) const;

  /// Adds `gr`'s first-watch time to `wb` unless it has one.
  /// @pre holds `write_mtx`.
  caf::error note_first_watch(rocksdb::WriteBatch& wb, const std::string& gr,
                              int64_t now_ns);

  /// Reads the stored coverage gaps into `gaps` (at open).
  caf::error load_gaps();

  /// Takes a snapshot and the current partition list.
  read_view view() const;

  /// The stored record of `version` read into `buffer`; "" when its
  /// partition is gone. @pre holds `write_mtx`.
  caf::expected<std::string_view> stored_record(const live_state& version,
                                                std::string& buffer) const;

  /// Builds each planned record with what changed since the version
  /// before it (`change_enricher.hpp`), several at a time on `pool`.
  /// @pre holds `write_mtx`.
  caf::error enrich(std::vector<planned_record>& plan) const;

  /// Every column family that holds data, with its name, meta last.
  std::vector<std::pair<std::string, cf_ptr>> named_families() const;
};

/// Turns a failed status into `ec::not_found` or `ec::storage_failure`.
caf::error to_error(const rocksdb::Status& st, std::string_view context);

/// Keys of the `meta` column family.
std::string meta_sequence_key();
std::string meta_checkpoint_key(std::string_view group_resource);
/// A named cursor (`rocks_store::export_cursor`).
std::string meta_cursor_key(std::string_view name);
std::string meta_live_prefix(std::string_view group_resource);
std::string meta_bounds_key(std::string_view partition);
/// The `b` value: a partition's smallest and largest record timestamp.
std::string encode_bounds(int64_t min_ts, int64_t max_ts);
/// When the server last wrote or reported itself alive (ns).
std::string meta_alive_key();
/// When a resource type was first watched: its first checkpoint (ns).
std::string meta_first_watch_prefix();
/// The first day whose partition has `c` tallies of all its records: the
/// day after the newest partition when a store written before tallies was
/// first opened with them.
std::string meta_tally_from_key();
/// The first day whose partition's `t` entries hold namespace, name and
/// link fields (`partition_ref::typed`), recorded like the tallies' day.
std::string meta_typed_from_key();
/// The first day whose partition has one `u` and one `o` entry per object
/// (`partition_ref::objects_once`), recorded like the tallies' day.
std::string meta_objects_once_from_key();
/// The install's key of Secret digests (`store_digest_key.cpp`).
std::string meta_digest_key_key();

} // namespace kws::storage
