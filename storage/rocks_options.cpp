#include "storage/rocks_options.hpp"

#include "storage/change_tally.hpp"
#include "storage/key_codec.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>
#include <sys/resource.h>

#include <algorithm>
#include <climits>
#include <string>

namespace kws::storage {

namespace {

rocksdb::CompressionType best_compression() {
  auto supported = rocksdb::GetSupportedCompressions();
  for (auto want :
       {rocksdb::kZSTD, rocksdb::kLZ4Compression, rocksdb::kSnappyCompression})
    if (std::find(supported.begin(), supported.end(), want) != supported.end())
      return want;
  return rocksdb::kNoCompression;
}

rocksdb::CompressionType fast_compression(rocksdb::CompressionType fallback) {
  auto supported = rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression)
      != supported.end())
    return rocksdb::kLZ4Compression;
  return fallback;
}

/// Where a key's run of time-ordered keys starts: the key without its
/// `ts | seq` suffix. RocksDB remembers where the last key of each such run
/// went into the memtable and inserts the next one from there, instead of
/// searching the skip list from its top: keys of one run arrive mostly in
/// time order. Only runs shared by many records take part (records by time,
/// the indexes by user, namespace and type, and ids); a hint costs
/// memory per run, and runs of one object (uid, object, name, link) would
/// add a hint per live object for little reuse.
class time_run_prefix : public rocksdb::SliceTransform {
public:
  const char* Name() const override { return "kws.time_run_prefix"; }

  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    // Ids grow with every record: the id entries are one run in time
    // order, whatever the id in their key.
    if (static_cast<index_kind>(key[0]) == index_kind::id)
      return {key.data(), 1};
    return {key.data(), key.size() - position_bytes};
  }

  bool InDomain(const rocksdb::Slice& key) const override {
    if (key.size() <= position_bytes)
      return false;
    switch (static_cast<index_kind>(key[0])) {
      case index_kind::id:
      case index_kind::time:
      case index_kind::user:
      case index_kind::ns_resource:
      case index_kind::resource: return true;
      default: return false;
    }
  }
};

/// The index prefix of a key (`index_prefix_size`): what one walk over an
/// index shares. Prefix Bloom filters on it let a walk for one object skip
/// every file, and so every day, that holds nothing of that object.
class index_run_prefix : public rocksdb::SliceTransform {
public:
  const char* Name() const override { return "kws.index_run_prefix"; }

  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), *index_prefix_size(key.ToStringView())};
  }

  bool InDomain(const rocksdb::Slice& key) const override {
    return index_prefix_size(key.ToStringView()).has_value();
  }
};

/// Merges the operands of a `c` key (`change_tally.hpp`). Bytes it did not
/// write make the read fail (RocksDB reports corruption) rather than count
/// wrong.
class tally_merge : public rocksdb::AssociativeMergeOperator {
public:
  const char* Name() const override { return "kws.change_tally"; }

  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* merged,
             rocksdb::Logger*) const override {
    auto operand = decode_tally(value.ToStringView());
    if (!operand)
      return false;
    if (existing != nullptr) {
      auto before = decode_tally(existing->ToStringView());
      if (!before)
        return false;
      add_tally(*operand, *before);
    }
    *merged = encode_tally(*operand);
    return true;
  }
};

/// The table property name RocksDB gives `type`.
std::string property_name(rocksdb::CompressionType type) {
  switch (type) {
    case rocksdb::kZSTD: return "ZSTD";
    case rocksdb::kLZ4Compression: return "LZ4";
    case rocksdb::kSnappyCompression: return "Snappy";
    default: return "NoCompression";
  }
}

/// The day being written keeps its records in the upper levels' fast
/// compression down to the bottom, so that their time-ordered files move
/// down unrewritten (a file moves only into a level of its own
/// compression) and recent reads decompress fast; the finished day is
/// rewritten once into the bottommost compression.
void set_hot_records(rocks_options& result) {
  const auto& cold = result.record_cf;
  auto& hot = result.hot_record_cf;
  hot = cold;
  result.hot_compression = property_name(cold.compression);
  if (cold.bottommost_compression == cold.compression)
    return;
  hot.bottommost_compression = cold.compression;
  hot.bottommost_compression_opts = rocksdb::CompressionOptions{};
  std::string type;
  rocksdb::GetStringFromCompressionType(&type, cold.bottommost_compression);
  const auto& o = cold.bottommost_compression_opts;
  result.finish_records
    = {{"bottommost_compression", type},
       {"bottommost_compression_opts",
        "{level=" + std::to_string(o.level)
          + ";max_dict_bytes=" + std::to_string(o.max_dict_bytes)
          + ";max_dict_buffer_bytes=" + std::to_string(o.max_dict_buffer_bytes)
          + ";zstd_max_train_bytes=" + std::to_string(o.zstd_max_train_bytes)
          + ";enabled=" + (o.enabled ? "true" : "false") + "}"}};
}

} // namespace

int open_files_budget(uint64_t soft_limit) {
  // RLIM_INFINITY is the largest value, so beyond too.
  if (soft_limit / 2 > static_cast<uint64_t>(INT_MAX))
    return -1;
  return std::max(least_open_files, static_cast<int>(soft_limit / 2));
}

rocks_options make_rocks_options(const store_options& opts) {
  rocks_options result;
  result.cache = rocksdb::NewLRUCache(opts.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = result.cache;
  table.block_size = 16 * size_t{1024};
  // Index and filter blocks in partitions under a small top level:
  // a lookup loads the partitions it needs, not a file's whole index and
  // filter. Whole, they outgrow the cache as days accumulate (75 MB for
  // the 7.5 million records of the 10M benchmark store) and every query
  // evicts, reloads and decompresses them.
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  // Partitions of a data block's size: 4 KiB ones cost a quarter more per
  // page read from disk and saved nothing once cached.
  table.metadata_block_size = table.block_size;
  table.pin_top_level_index_and_filter = true;
  // Index and filter blocks live in the cache so memory stays bounded.
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // What would otherwise grow outside the cache with the number of files
  // and during flushes is charged to it: one budget for everything.
  using role = rocksdb::CacheEntryRole;
  for (auto r : {role::kFilterConstruction, role::kBlockBasedTableReader,
                 role::kFileMetadata})
    table.cache_usage_options.options_overrides.insert(
      {r, {rocksdb::CacheEntryRoleOptions::Decision::kEnabled}});
  auto& cf = result.index_cf;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Flushes and upper-level compactions run beside ingest on few cores:
  // LZ4 there costs a fraction of zstd's CPU; the bottommost level, which
  // holds most bytes, keeps the best compression for disk.
  cf.bottommost_compression = best_compression();
  cf.compression = fast_compression(cf.bottommost_compression);
  // zstd's fastest level: its default (3) took about half of the
  // compaction threads' samples while ingesting; level 1 cut the CPU per
  // ingested event by a tenth for the same bytes on disk (README,
  // Benchmarks). Reading is as fast at any level.
  if (cf.bottommost_compression == rocksdb::kZSTD) {
    cf.bottommost_compression_opts.level = 1;
    cf.bottommost_compression_opts.enabled = true;
  }
  cf.memtable_insert_with_hint_prefix_extractor
    = std::make_shared<time_run_prefix>();
  result.record_cf = cf;
  // Records are snapshots of few kinds: the blocks of one file repeat each
  // other's field names and values. At the bottommost level each block is
  // compressed against samples of the others, kept in the file as a
  // dictionary: 30 % less disk per event for no measurable CPU (README,
  // Benchmarks). The samples are used as they are: zstd's trainer cost
  // compactions 40 % more CPU for 5 % fewer bytes, and index blocks gained
  // nothing. They are buffered while a file is written, so the buffer is
  // bounded (and charged to the block cache).
  if (result.record_cf.bottommost_compression == rocksdb::kZSTD) {
    auto& dict = result.record_cf.bottommost_compression_opts;
    dict.max_dict_bytes = 16U << 10U;
    dict.max_dict_buffer_bytes = uint64_t{4} << 20U;
  }
  // Records arrive in time order, so their flushes never overlap and move
  // down with little rewriting: a quarter of the budget (meta, which
  // shares these options, too).
  result.record_cf.write_buffer_size
    = std::max<size_t>(opts.write_buffer_bytes / 4, size_t{4} << 20);
  // Three quarters of the memtable budget for the index family: its
  // entries are small and span the whole key space, so each flush is a
  // file that overlaps all of level 1, and each compaction of level 0
  // rewrites level 1. Fewer, larger flushes mean fewer such rewrites.
  cf.write_buffer_size
    = std::max<size_t>(opts.write_buffer_bytes / 4 * 3, size_t{4} << 20);
  // Level 1 near the size of four flushes rather than RocksDB's 256 MiB:
  // a day's index then moves down to level 2 in pieces instead of being
  // rewritten whole by every level-0 compaction as the day fills.
  cf.max_bytes_for_level_base = uint64_t{64} << 20;
  // Point lookups: whole-key Bloom filters spare the levels that do not
  // hold the key.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.optimize_filters_for_memory = true;
  result.record_cf.table_factory.reset(
    rocksdb::NewBlockBasedTableFactory(table));
  set_hot_records(result);
  // Index entries are only walked by prefix, never looked up one by one:
  // one filter entry per prefix and file instead of one per entry.
  table.whole_key_filtering = false;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.prefix_extractor = std::make_shared<index_run_prefix>();
  cf.merge_operator = std::make_shared<tally_merge>();
  auto& db = result.db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  // Each family flushes on its own schedule. Tied to the records' memtable
  // (atomic flush), the index family flushed 1 MB files that each rewrote
  // its whole level 1: compactions took half of ingest's CPU at 10M records
  // (README, Benchmarks). The WAL, always on, recovers a batch in every
  // family after a crash, and a checkpoint of several families always
  // carries the WAL files any family still needs.
  db.atomic_flush = false;
  // Families flushed rarely keep WAL files alive: bounded, so recovery
  // replays at most this much and disk holds no more of it. At four times
  // the budget the index family flushed no more often than with no bound
  // (bench/results/2026-12-06-flush-schedule.md); eight leaves room for
  // larger objects.
  db.max_total_wal_size = uint64_t{8} * opts.write_buffer_bytes;
  // Memtables are charged to the block cache: its capacity bounds data,
  // index and filter blocks and memtables together.
  db.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
    opts.write_buffer_bytes, result.cache);
  // One flush and three compactions: days and families compact side by
  // side, and the rewrite of a finished day (`record_cooling.hpp`), which
  // holds one for a minute or more at 10M records, leaves two to the day
  // being written. With two, its level-0 files piled up during the rewrite
  // and ingest fell to 6,020 of 10,000 events/s asked; with three, 8,791
  // (README, Benchmarks). They run at nice 19 either way.
  db.max_background_jobs = 4;
  db.keep_log_file_num = 4;
  // Every day has files of its own, and a busy cluster's fourteen days are
  // thousands of them: kept all open (RocksDB's default), they would
  // exhaust the process's file descriptors. Then every flush fails, and
  // this RocksDB (7.8) was seen to end a scan early without an error
  // (storage/README.md). Beyond the budget, RocksDB closes the least
  // recently used and opens them again when read.
  rlimit files{};
  if (opts.open_files > 0)
    db.max_open_files = std::max(opts.open_files, least_open_files);
  else if (getrlimit(RLIMIT_NOFILE, &files) == 0)
    db.max_open_files = open_files_budget(files.rlim_cur);
  db.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  return result;
}

} // namespace kws::storage
