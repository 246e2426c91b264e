// The RocksDB options of the history store, in one place so that anything
// measured against "the store's options" (the raw-limit benchmark) uses
// exactly these.
#pragma once

#include "storage/rocks_store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/options.h>

#include <memory>

namespace kws::storage {

/// Database and column-family options for a store opened with `opts`.
struct rocks_options {
  rocksdb::DBOptions db;
  /// Used for every column family (partitions and meta).
  rocksdb::ColumnFamilyOptions cf;
  /// The block cache the column families share.
  std::shared_ptr<rocksdb::Cache> cache;
};

/// Builds the options: zstd (or the best compression available), Bloom
/// filters, index and filter blocks in a bounded block cache, atomic flush.
rocks_options make_rocks_options(const store_options& opts);

} // namespace kws::storage
