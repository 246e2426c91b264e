// The store's database opened directly, for tests that look at or
// rearrange its layout while no `rocks_store` has it open.
#pragma once

#include "storage/key_codec.hpp"
#include "storage/rocks_options.hpp"
#include "storage/rocks_store.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kws::storage::test {

/// The store's database opened directly with every column family, to look
/// at or rearrange its layout while no `rocks_store` has it open.
class raw_db {
public:
  explicit raw_db(const std::string& path) {
    std::vector<std::string> names;
    auto st = rocksdb::DB::ListColumnFamilies({}, path, &names);
    EXPECT_TRUE(st.ok()) << st.ToString();
    // Partitions hold merged `c` keys: reading them needs the operator.
    rocksdb::ColumnFamilyOptions with_merge;
    with_merge.merge_operator
      = make_rocks_options(store_options{}).index_cf.merge_operator;
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const auto& name : names)
      descs.emplace_back(name,
                         partition_day(name) ? with_merge
                                             : rocksdb::ColumnFamilyOptions{});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    st = rocksdb::DB::Open({}, path, descs, &handles, &db);
    EXPECT_TRUE(st.ok()) << st.ToString();
    db_.reset(db);
    for (size_t i = 0; i < handles.size(); ++i)
      families_.emplace(names[i], handles[i]);
  }

  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;

  ~raw_db() {
    for (auto& [name, h] : families_)
      EXPECT_TRUE(db_->DestroyColumnFamilyHandle(h).ok());
    EXPECT_TRUE(db_->Close().ok());
  }

  rocksdb::DB& db() { return *db_; }

  /// The handle of `name`; nullptr when there is no such column family.
  rocksdb::ColumnFamilyHandle* family(const std::string& name) const {
    auto it = families_.find(name);
    return it == families_.end() ? nullptr : it->second;
  }

  /// The first key byte of every key of `name`, with counts.
  std::map<char, size_t> key_tags(const std::string& name) {
    std::map<char, size_t> result;
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, family(name))};
    for (it->SeekToFirst(); it->Valid(); it->Next())
      ++result[it->key()[0]];
    EXPECT_TRUE(it->status().ok());
    return result;
  }

  /// Rewrites day `day` to the layout of stores written before records had
  /// their own column family: records moved into the partition's family.
  void merge_records_into_partition(int64_t day) {
    auto* records = family(records_name(day));
    auto* part = family(partition_name(day));
    ASSERT_NE(records, nullptr);
    ASSERT_NE(part, nullptr);
    rocksdb::WriteBatch wb;
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, records)};
    for (it->SeekToFirst(); it->Valid(); it->Next())
      ASSERT_TRUE(wb.Put(part, it->key(), it->value()).ok());
    ASSERT_TRUE(it->status().ok());
    it.reset();
    ASSERT_TRUE(db_->Write({}, &wb).ok());
    ASSERT_TRUE(db_->DropColumnFamily(records).ok());
    ASSERT_TRUE(db_->DestroyColumnFamilyHandle(records).ok());
    families_.erase(records_name(day));
  }

  /// Rewrites the index entries of day `day` as stores wrote them before
  /// entries were cut to what their walks read: the record's whole summary.
  /// Returns how many entries it rewrote.
  size_t write_whole_summaries(int64_t day) {
    auto* records = family(records_name(day));
    auto* part = family(partition_name(day));
    EXPECT_NE(records, nullptr);
    EXPECT_NE(part, nullptr);
    rocksdb::WriteBatch wb;
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, records)};
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto record = decode_record_value(it->value().ToStringView());
      auto pos = key_position(it->key().ToStringView());
      if (!record || !pos) {
        ADD_FAILURE() << "undecodable record in " << records_name(day);
        continue;
      }
      auto keys = index_keys(record->first, *pos);
      for (size_t i = 1; i < keys.size(); ++i)
        EXPECT_TRUE(wb.Put(part, keys[i], encode_summary(record->first)).ok());
    }
    EXPECT_TRUE(it->status().ok());
    it.reset();
    EXPECT_TRUE(db_->Write({}, &wb).ok());
    return wb.Count();
  }

  /// The properties of every table file of `name`.
  std::vector<std::shared_ptr<const rocksdb::TableProperties>>
  tables(const std::string& name) {
    rocksdb::TablePropertiesCollection props;
    EXPECT_TRUE(db_->GetPropertiesOfAllTables(family(name), &props).ok());
    std::vector<std::shared_ptr<const rocksdb::TableProperties>> result;
    for (auto& [file, p] : props)
      result.push_back(p);
    return result;
  }

  /// Creates an empty column family `name` with default options.
  void create_family(const std::string& name) {
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db_->CreateColumnFamily({}, name, &h).ok());
    families_.emplace(name, h);
  }

private:
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

} // namespace kws::storage::test
