#include "storage/rocks_options.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

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

} // namespace

rocks_options make_rocks_options(const store_options& opts) {
  rocks_options result;
  result.cache = rocksdb::NewLRUCache(opts.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = result.cache;
  table.block_size = 16 * 1024;
  // Whole-key Bloom filters serve the point reads of records by `r` key;
  // index and filter blocks live in the cache so memory stays bounded.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  result.cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  result.cf.compression = best_compression();
  result.cf.bottommost_compression = result.cf.compression;
  result.cf.write_buffer_size = 32 << 20;
  auto& db = result.db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  // Flushing all column families together keeps records, indexes and meta
  // of one batch in the same generation of files, which checkpoints rely on.
  db.atomic_flush = true;
  db.db_write_buffer_size = opts.write_buffer_bytes;
  db.max_background_jobs = 2;
  db.keep_log_file_num = 4;
  db.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  return result;
}

} // namespace kws::storage
