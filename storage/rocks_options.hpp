// The RocksDB options of the history store, in one place so that anything
// measured against "the store's options" (the raw-limit benchmark) uses
// exactly these.
#pragma once

#include "storage/rocks_store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/options.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace kws::storage {

/// Database and column-family options for a store opened with `opts`.
struct rocks_options {
  rocksdb::DBOptions db;
  /// A partition's indexes, only ever walked by key range: Bloom filters
  /// over index prefixes, not whole keys, which would cost memory and CPU
  /// for up to eight keys per record.
  rocksdb::ColumnFamilyOptions index_cf;
  /// Column families read by point lookups: a partition's records (fetched
  /// from index hits) and meta (the live state read per event). Whole-key
  /// Bloom filters, one key per record.
  rocksdb::ColumnFamilyOptions record_cf;
  /// The records family of the day being written: `record_cf` with its
  /// fast compression at every level (`record_cooling.hpp`).
  rocksdb::ColumnFamilyOptions hot_record_cf;
  /// What turns a `hot_record_cf` family into a `record_cf` one; empty when
  /// the two compress alike.
  std::unordered_map<std::string, std::string> finish_records;
  /// The table property name of `hot_record_cf`'s compression ("LZ4").
  std::string hot_compression;
  /// The block cache the column families share.
  std::shared_ptr<rocksdb::Cache> cache;
};

/// The fewest table files RocksDB keeps open: it raises anything lower.
inline constexpr int least_open_files = 20;

/// The files RocksDB may keep open under a process limit of `soft_limit`
/// open files (`RLIMIT_NOFILE`'s soft value): half of it, leaving the rest
/// to connections, the WAL and the other files of the database, and at
/// least 20; -1 (no bound) when the limit is infinite or beyond what
/// RocksDB counts.
int open_files_budget(uint64_t soft_limit);

/// Builds the options: LZ4 above and zstd (or the best compression
/// available) at the bottom, Bloom filters for records and index prefixes,
/// partitioned index and filter blocks in a bounded block cache, and a
/// memtable budget that gives the index family the larger share.
rocks_options make_rocks_options(const store_options& opts);

} // namespace kws::storage
