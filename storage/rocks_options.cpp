#include "storage/rocks_options.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>

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

} // namespace

rocks_options make_rocks_options(const store_options& opts) {
  rocks_options result;
  result.cache = rocksdb::NewLRUCache(opts.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = result.cache;
  table.block_size = 16 * size_t{1024};
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
  // Half the budget per memtable, so a flush frees memory well before the
  // budget is reached (one day's partition takes almost all writes).
  cf.write_buffer_size
    = std::max<size_t>(opts.write_buffer_bytes / 2, size_t{4} << 20);
  // Point lookups: whole-key Bloom filters spare the levels that do not
  // hold the key.
  result.record_cf = cf;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.optimize_filters_for_memory = true;
  result.record_cf.table_factory.reset(
    rocksdb::NewBlockBasedTableFactory(table));
  auto& db = result.db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  // Flushing all column families together keeps records, indexes and meta
  // of one batch in the same generation of files, which checkpoints rely on.
  db.atomic_flush = true;
  // Memtables are charged to the block cache: its capacity bounds data,
  // index and filter blocks and memtables together.
  db.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
    opts.write_buffer_bytes, result.cache);
  db.max_background_jobs = 2;
  db.keep_log_file_num = 4;
  db.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  return result;
}

} // namespace kws::storage
