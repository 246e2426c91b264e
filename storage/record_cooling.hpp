// The records of the day being written stay in fast LZ4 at every level:
// they arrive in time order, so their files move down without a rewrite,
// and the reads of recent records (an update's previous version, the pages
// of the last hours) decompress fast. Once a newer day takes the writes, a
// finished day is rewritten once, as a whole, into the compact zstd (and
// dictionary) of the bottommost level: `record_cooler` does that on a
// thread of its own, a day at a time, while writes and reads go on.
//
// Files that move down unrewritten are never merged either: the day being
// written keeps a file per flush. Past a quarter of the table files the
// store may keep open, the cooler merges them (still in LZ4), so that reads
// do not keep reopening them.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/listener.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

namespace kws::storage {

/// Option values (`SetOptions`) that turn a records family from the day
/// being written into a finished one.
using family_settings = std::unordered_map<std::string, std::string>;

/// Whether any table file of `family` was written with `compression` (a
/// table property name, as "LZ4"): a finished day that holds such a file
/// was not rewritten yet.
bool holds_compression(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                       const std::string& compression);

/// The most table files the day being written keeps unmerged, for a store
/// that may keep `open_files` open (`max_open_files`; -1: no bound).
size_t most_unmerged_files(int open_files);

/// Rewrites records families on a thread of its own, one at a time, in the
/// order asked.
class record_cooler {
public:
  using family_ptr = std::shared_ptr<rocksdb::ColumnFamilyHandle>;
  /// The family of the day being written if `records_family` names it,
  /// else null.
  using find_newest = std::function<family_ptr(const std::string&)>;

  /// @param db outlives this cooler.
  /// @param hot_compression the table property name of the day being
  ///        written's compression ("LZ4").
  record_cooler(rocksdb::DB& db, family_settings finished,
                std::string hot_compression, size_t most_files,
                find_newest newest);

  record_cooler(const record_cooler&) = delete;
  record_cooler& operator=(const record_cooler&) = delete;

  /// Stops: a rewrite under way is abandoned (the day keeps its files and
  /// is rewritten again after the next open).
  ~record_cooler();

  /// Queues the rewrite of `family` (the records of partition `name`) into
  /// the finished day's compression if it still holds files of the day
  /// being written, unless it is queued or under way already. Holding the
  /// handle keeps a family that retention drops meanwhile valid.
  void cool(std::string name, family_ptr family);

  /// Called after each flush: queues a look at the records family
  /// `records_family` if it is the day being written, which is merged when
  /// it holds more than `most_files` files.
  void flushed(std::string records_family);

  /// Called after each compaction: counts the rewrite's CPU and records
  /// when it is one the cooler asked for.
  void compacted(const rocksdb::CompactionJobInfo& info);

  /// Whether a rewrite or a look is queued or under way.
  bool busy() const;

private:
  struct job {
    std::string name;
    /// Null for a look after a flush.
    family_ptr family;
  };

  void run();
  rocksdb::Status finish(const job& j);
  rocksdb::Status merge_if_crowded(const std::string& records_family);
  rocksdb::Status compact_all(rocksdb::ColumnFamilyHandle* family);
  /// The CPU seconds and records of the job under way's compactions.
  std::pair<double, uint64_t> running_work() const;

  rocksdb::DB& db_;
  const family_settings finished_;
  const std::string hot_compression_;
  const size_t most_files_;
  const find_newest newest_;
  mutable std::mutex mtx_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  /// The name of the job under way ("" when none).
  std::string running_;
  /// The CPU and records of the compactions of the family the job under
  /// way rewrites, once RocksDB has completed them.
  std::string running_family_;
  uint64_t running_cpu_micros_ = 0;
  uint64_t running_records_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

/// Tells a cooler of each flush of a records family, and of each
/// compaction. RocksDB holds it as long as the database is open, which can
/// outlast the cooler.
class records_listener final : public rocksdb::EventListener {
public:
  /// From now on, tells `cooler` (null: no one).
  void attach(record_cooler* cooler);

  void OnFlushCompleted(rocksdb::DB* db,
                        const rocksdb::FlushJobInfo& info) override;

  void OnCompactionCompleted(rocksdb::DB* db,
                             const rocksdb::CompactionJobInfo& info) override;

private:
  std::mutex mtx_;
  record_cooler* cooler_ = nullptr;
};

} // namespace kws::storage
