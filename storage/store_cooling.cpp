// The store's side of `record_cooling.hpp`: which family is the day being
// written, and which finished days still hold their records as it left
// them.
#include "storage/key_codec.hpp"
#include "storage/store_impl.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace kws::storage {

void rocks_store::impl::finish_older_days() {
  if (!cooler)
    return;
  std::vector<partition_ref> older;
  {
    std::shared_lock guard{mtx};
    if (parts.size() < 2)
      return;
    for (auto it = parts.begin(); std::next(it) != parts.end(); ++it)
      older.push_back(it->second);
  }
  for (auto& p : older)
    // A partition written before records had a family of their own keeps
    // its files: its records are rewritten with its index entries.
    if (p.records != p.cf)
      cooler->cool(p.name, std::move(p.records));
}

std::vector<rocksdb::ColumnFamilyDescriptor>
rocks_store::impl::descriptors(const std::vector<std::string>& names) const {
  std::optional<int64_t> newest;
  for (const auto& name : names)
    if (auto day = records_day(name))
      newest = std::max(newest.value_or(*day), *day);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  descs.reserve(names.size());
  for (const auto& name : names) {
    const auto day = records_day(name);
    descs.emplace_back(name,
                       day && day == newest      ? hot_record_opts
                         : day || name == "meta" ? record_opts
                                                 : index_opts);
  }
  return descs;
}

void rocks_store::impl::start_cooler(int open_files) {
  if (finish_records.empty())
    return;
  cooler = std::make_unique<record_cooler>(
    *db, finish_records, hot_compression, most_unmerged_files(open_files),
    [this](const std::string& name) { return newest_records(name); });
  cooling_events->attach(cooler.get());
  finish_older_days();
}

void rocks_store::impl::stop_cooler() {
  cooling_events->attach(nullptr);
  cooler.reset();
}

rocks_store::impl::cf_ptr
rocks_store::impl::newest_records(const std::string& records_family) const {
  std::shared_lock guard{mtx};
  if (parts.empty())
    return nullptr;
  const auto& newest = parts.rbegin()->second;
  if (newest.records == newest.cf
      || newest.records->GetName() != records_family)
    return nullptr;
  return newest.records;
}

} // namespace kws::storage
