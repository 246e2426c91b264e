#include "storage/record_cooling.hpp"

#include "storage/key_codec.hpp"
#include "util/logging.hpp"

#include <rocksdb/metadata.h>
#include <rocksdb/table_properties.h>

#include <algorithm>
#include <chrono>
#include <limits>

namespace kws::storage {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
    .count();
}

} // namespace

bool holds_compression(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                       const std::string& compression) {
  rocksdb::TablePropertiesCollection tables;
  if (auto st = db.GetPropertiesOfAllTables(family, &tables); !st.ok()) {
    // Rewriting a day that needed none costs time, never data.
    KWS_WARN("cannot read the table properties of {}: {}", family->GetName(),
             st.ToString());
    return true;
  }
  for (const auto& [file, props] : tables)
    if (props && props->compression_name == compression)
      return true;
  return false;
}

size_t most_unmerged_files(int open_files) {
  if (open_files <= 0)
    return std::numeric_limits<size_t>::max();
  // The other days, the index and meta families need the rest.
  return std::max<size_t>(static_cast<size_t>(open_files) / 4, 4);
}

record_cooler::record_cooler(rocksdb::DB& db, family_settings finished,
                             std::string hot_compression, size_t most_files,
                             find_newest newest)
    : db_(db), finished_(std::move(finished)),
      hot_compression_(std::move(hot_compression)), most_files_(most_files),
      newest_(std::move(newest)), thread_([this] { run(); }) {}

record_cooler::~record_cooler() {
  {
    std::lock_guard guard{mtx_};
    stopping_ = true;
    queue_.clear();
  }
  // Ends a rewrite under way at its next file instead of at its end.
  db_.DisableManualCompaction();
  wake_.notify_all();
  thread_.join();
}

void record_cooler::cool(std::string name, family_ptr family) {
  {
    std::lock_guard guard{mtx_};
    if (stopping_ || name == running_
        || std::any_of(queue_.begin(), queue_.end(),
                       [&](const job& x) { return x.name == name; }))
      return;
    queue_.push_back(job{std::move(name), std::move(family)});
  }
  wake_.notify_all();
}

void record_cooler::flushed(std::string records_family) {
  {
    std::lock_guard guard{mtx_};
    // A look queued and not begun yet sees this flush's file too.
    if (stopping_
        || std::any_of(queue_.begin(), queue_.end(),
                       [&](const job& x) { return x.name == records_family; }))
      return;
    queue_.push_back(job{std::move(records_family), nullptr});
  }
  wake_.notify_all();
}

void record_cooler::compacted(const rocksdb::CompactionJobInfo& info) {
  if (info.compaction_reason != rocksdb::CompactionReason::kManualCompaction)
    return;
  std::lock_guard guard{mtx_};
  if (info.cf_name != running_family_)
    return;
  running_cpu_micros_ += info.stats.cpu_micros;
  running_records_ += info.stats.num_input_records;
}

bool record_cooler::busy() const {
  std::lock_guard guard{mtx_};
  return !running_.empty() || !queue_.empty();
}

std::pair<double, uint64_t> record_cooler::running_work() const {
  std::lock_guard guard{mtx_};
  return {static_cast<double>(running_cpu_micros_) / 1e6, running_records_};
}

rocksdb::Status
record_cooler::compact_all(rocksdb::ColumnFamilyHandle* family) {
  rocksdb::CompactRangeOptions all;
  // The bottommost files too: the day's files are all there.
  all.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  // Other days and families compact meanwhile.
  all.exclusive_manual_compaction = false;
  return db_.CompactRange(all, family, nullptr, nullptr);
}

rocksdb::Status
record_cooler::merge_if_crowded(const std::string& records_family) {
  auto family = newest_(records_family);
  if (!family)
    return rocksdb::Status::OK();
  rocksdb::ColumnFamilyMetaData meta;
  db_.GetColumnFamilyMetaData(family.get(), &meta);
  if (meta.file_count <= most_files_)
    return rocksdb::Status::OK();
  const auto start = std::chrono::steady_clock::now();
  auto st = compact_all(family.get());
  if (st.ok()) {
    auto [cpu_s, records] = running_work();
    KWS_INFO("merged the {} files of the day being written, {}: {} records "
             "in {:.1f} s, {:.1f} s of CPU",
             meta.file_count, records_family, records, seconds_since(start),
             cpu_s);
  }
  return st;
}

rocksdb::Status record_cooler::finish(const job& j) {
  if (!j.family)
    return merge_if_crowded(j.name);
  // Read here rather than where the job is queued: properties come from
  // every file of the day, and a day is queued under the store's writer
  // lock.
  if (!holds_compression(db_, j.family.get(), hot_compression_))
    return rocksdb::Status::OK();
  const auto start = std::chrono::steady_clock::now();
  auto st = db_.SetOptions(j.family.get(), finished_);
  if (st.ok())
    st = compact_all(j.family.get());
  if (st.ok()) {
    auto [cpu_s, records] = running_work();
    KWS_INFO("rewrote the records of finished day {} compactly: {} records "
             "in {:.1f} s, {:.1f} s of CPU",
             j.name, records, seconds_since(start), cpu_s);
  }
  return st;
}

void record_cooler::run() {
  for (;;) {
    job next;
    {
      std::unique_lock guard{mtx_};
      wake_.wait(guard, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_)
        return;
      next = std::move(queue_.front());
      queue_.pop_front();
      running_ = next.name;
      running_family_ = next.family ? next.family->GetName() : next.name;
      running_cpu_micros_ = 0;
      running_records_ = 0;
    }
    auto st = finish(next);
    {
      std::lock_guard guard{mtx_};
      running_.clear();
      running_family_.clear();
      if (stopping_)
        return;
    }
    if (!st.ok())
      KWS_WARN("cannot rewrite the records of {} (it keeps its files, and "
               "is rewritten after the next open or flush): {}",
               next.name, st.ToString());
  }
}

void records_listener::attach(record_cooler* cooler) {
  std::lock_guard guard{mtx_};
  cooler_ = cooler;
}

void records_listener::OnFlushCompleted(rocksdb::DB* /*db*/,
                                        const rocksdb::FlushJobInfo& info) {
  if (!records_day(info.cf_name))
    return;
  std::lock_guard guard{mtx_};
  if (cooler_ != nullptr)
    cooler_->flushed(info.cf_name);
}

void records_listener::OnCompactionCompleted(
  rocksdb::DB* /*db*/, const rocksdb::CompactionJobInfo& info) {
  std::lock_guard guard{mtx_};
  if (cooler_ != nullptr)
    cooler_->compacted(info);
}

} // namespace kws::storage
