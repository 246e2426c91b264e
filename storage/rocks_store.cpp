// Opening, writing and retention of the history store. Queries live in
// store_query.cpp; backup, restore and the consistency check live in
// maintenance.cpp. All share `rocks_store::impl` (store_impl.hpp).
#include "storage/rocks_store.hpp"

#include "storage/change_enricher.hpp"
#include "storage/coverage.hpp"
#include "storage/index_entry.hpp"
#include "storage/key_codec.hpp"
#include "storage/live_state.hpp"
#include "storage/rocks_options.hpp"
#include "storage/store_impl.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"
#include "util/time_format.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <unordered_map>

namespace kws::storage {

std::string live_key(std::string_view ns, std::string_view name) {
  if (ns.empty())
    return std::string{name};
  std::string result;
  result.reserve(ns.size() + name.size() + 1);
  result.append(ns);
  result += '/';
  result.append(name);
  return result;
}

std::string group_resource(std::string_view resource, std::string_view group) {
  std::string result{resource};
  if (!group.empty()) {
    result += '.';
    result.append(group);
  }
  return result;
}

caf::error to_error(const rocksdb::Status& st, std::string_view context) {
  auto code = st.IsNotFound() ? ec::not_found : ec::storage_failure;
  return caf::make_error(code, std::string{context} + ": " + st.ToString());
}

// -- meta column family ------------------------------------------------------

std::string meta_sequence_key() {
  return "n";
}

std::string meta_checkpoint_key(std::string_view gr) {
  std::string key = "c";
  key.append(gr);
  return key;
}

std::string meta_live_prefix(std::string_view gr) {
  std::string key = "l";
  key.append(gr);
  key.push_back('\0');
  return key;
}

std::string meta_bounds_key(std::string_view partition) {
  std::string key = "b";
  key.append(partition);
  return key;
}

std::string meta_alive_key() {
  return "a";
}

std::string meta_first_watch_prefix() {
  return "f";
}

std::string meta_tally_from_key() {
  return "t";
}

std::string meta_typed_from_key() {
  return "y";
}

std::string meta_objects_once_from_key() {
  return "u";
}

std::string encode_bounds(int64_t min_ts, int64_t max_ts) {
  std::string out;
  append_ts(out, min_ts);
  append_ts(out, max_ts);
  return out;
}

namespace {

int64_t system_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// The first day of a format feature (`meta_tally_from_key`,
/// `meta_typed_from_key`, `meta_objects_once_from_key`), recorded at the first
/// open of code that has it: every partition of a new store has it; in a store
/// written before, the partitions it has do not.
caf::expected<int64_t> first_day_of(rocks_store::impl& s,
                                    const std::string& key,
                                    std::string_view what) {
  std::string value;
  auto st = s.db->Get(rocksdb::ReadOptions{}, s.meta_cf.get(), key, &value);
  if (st.ok() && value.size() == 8)
    return read_ts(value);
  if (st.ok())
    return caf::make_error(ec::storage_failure,
                           "malformed first day " + std::string{what}
                             + " in meta");
  if (!st.IsNotFound())
    return to_error(st, "cannot read the first day " + std::string{what});
  int64_t first = s.parts.empty() ? min_time_ns : s.parts.rbegin()->first + 1;
  value.clear();
  append_ts(value, first);
  rocksdb::WriteOptions wo;
  wo.sync = s.opts.sync;
  if (st = s.db->Put(wo, s.meta_cf.get(), key, value); !st.ok())
    return to_error(st, "cannot record the first day " + std::string{what});
  return first;
}

} // namespace

// -- impl --------------------------------------------------------------------

rocks_store::impl::~impl() {
  stop_cooler();
  // Handles must go before the database closes.
  {
    std::unique_lock guard{mtx};
    parts.clear();
  }
  meta_cf.reset();
  default_cf.reset();
  other_cfs.clear();
  if (db) {
    if (auto st = db->Close(); !st.ok())
      KWS_WARN("rocks_store cannot close {} cleanly: {}", opts.path,
               st.ToString());
  }
}

rocks_store::impl::cf_ptr
rocks_store::impl::wrap(rocksdb::ColumnFamilyHandle* h) {
  auto* raw_db = db.get();
  return cf_ptr{h, [raw_db](rocksdb::ColumnFamilyHandle* x) {
                  if (auto st = raw_db->DestroyColumnFamilyHandle(x); !st.ok())
                    KWS_WARN("rocks_store cannot release a column family: {}",
                             st.ToString());
                }};
}

read_view rocks_store::impl::view() const {
  read_view v;
  v.db = db.get();
  // Snapshot first, partition list second: the list may then name a newer
  // partition or wider bounds than the snapshot holds, which only costs an
  // empty scan, but never misses data the snapshot has.
  v.snapshot = db->GetSnapshot();
  std::shared_lock guard{mtx};
  v.parts.reserve(parts.size());
  for (const auto& [day, p] : parts)
    v.parts.push_back(p);
  v.meta_cf = meta_cf;
  v.pool = pool.get();
  v.slow_seek = opts.slow_seek;
  v.opens = files.counter.get();
  v.failed_opens_before = v.opens->failures();
  return v;
}

read_view::~read_view() {
  parts.clear();
  if (snapshot != nullptr)
    db->ReleaseSnapshot(snapshot);
}

caf::expected<partition_ref> rocks_store::impl::partition_for(int64_t day) {
  {
    std::shared_lock guard{mtx};
    if (auto it = parts.find(day); it != parts.end())
      return it->second;
  }
  // Records first: `open` completes a partition whose records column family
  // exists alone (a crash in between), never the other way round.
  auto records = create_family(records_name(day), hot_record_opts);
  if (!records)
    return records.error();
  auto name = partition_name(day);
  auto cf = create_family(name, index_opts);
  if (!cf)
    return cf.error();
  partition_ref p{name, day, std::move(*cf), std::move(*records)};
  p.min_ts = max_time_ns;
  p.max_ts = min_time_ns;
  p.tallied = true;
  p.typed = true;
  p.objects_once = true;
  {
    std::unique_lock guard{mtx};
    parts.emplace(day, p);
  }
  finish_older_days();
  return p;
}

caf::expected<rocks_store::impl::cf_ptr>
rocks_store::impl::create_family(const std::string& name,
                                 const rocksdb::ColumnFamilyOptions& options) {
  rocksdb::ColumnFamilyHandle* h = nullptr;
  if (auto st = db->CreateColumnFamily(options, name, &h); !st.ok())
    return to_error(st, "cannot create column family " + name);
  return wrap(h);
}

// -- rocks_store
// ---------------------------------------------------------------

rocks_store::rocks_store(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {}

rocks_store::rocks_store(rocks_store&&) noexcept = default;

rocks_store& rocks_store::operator=(rocks_store&&) noexcept = default;

rocks_store::~rocks_store() = default;

caf::expected<rocks_store> rocks_store::open(store_options opts) {
  if (opts.path.empty())
    return caf::make_error(ec::invalid_argument, "storage path is empty");
  if (!opts.clock)
    opts.clock = system_clock_ns;
  // RocksDB creates only the last path component.
  std::error_code fs_err;
  std::filesystem::create_directories(opts.path, fs_err);
  if (fs_err)
    return caf::make_error(ec::storage_failure,
                           "cannot create " + opts.path + ": "
                             + fs_err.message());
  auto s = std::make_unique<impl>();
  s->opts = std::move(opts);
  s->pool = std::make_unique<read_pool>(std::max(s->opts.read_threads, 1u) - 1);
  auto rocks = make_rocks_options(s->opts);
  s->cache = rocks.cache;
  s->index_opts = rocks.index_cf;
  s->record_opts = rocks.record_cf;
  s->hot_record_opts = rocks.hot_record_cf;
  s->finish_records = rocks.finish_records;
  s->hot_compression = rocks.hot_compression;
  s->files = count_failed_opens();
  rocksdb::DBOptions db_opts = rocks.db;
  db_opts.env = s->files.env.get();
  std::vector<std::string> names;
  if (auto st = rocksdb::DB::ListColumnFamilies(db_opts, s->opts.path, &names);
      !st.ok())
    names.clear(); // A new database: nothing to list yet.
  for (const auto& required :
       {rocksdb::kDefaultColumnFamilyName, std::string{"meta"}})
    if (std::find(names.begin(), names.end(), required) == names.end())
      names.push_back(required);
  auto descs = s->descriptors(names);
  db_opts.listeners.push_back(s->cooling_events);
  // Compactions merge files that readers and the writer already see: they
  // can wait while a query or a write has work for a core, and waiting,
  // each merges more level-0 files at once (README, Benchmarks). Flushes
  // keep their priority: a memtable that cannot flush stalls writes. The
  // thread pools are the process's, shared by its stores.
  if (auto st = db_opts.env->LowerThreadPoolCPUPriority(
        rocksdb::Env::Priority::LOW, rocksdb::CpuPriority::kLow);
      !st.ok())
    KWS_WARN("compactions keep their CPU priority: {}", st.ToString());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (auto st = rocksdb::DB::Open(db_opts, s->opts.path, descs, &handles, &raw);
      !st.ok())
    return to_error(st, "cannot open store at " + s->opts.path);
  s->db.reset(raw);
  std::map<int64_t, impl::cf_ptr> records;
  for (size_t i = 0; i < names.size(); ++i) {
    auto h = s->wrap(handles[i]);
    if (names[i] == rocksdb::kDefaultColumnFamilyName)
      s->default_cf = std::move(h);
    else if (names[i] == "meta")
      s->meta_cf = std::move(h);
    else if (auto day = partition_day(names[i]))
      s->parts.emplace(*day,
                       partition_ref{names[i], *day, std::move(h), nullptr,
                                     min_time_ns, max_time_ns});
    else if (auto rday = records_day(names[i]))
      records.emplace(*rday, std::move(h));
    else
      s->other_cfs.push_back(std::move(h)); // Opened because RocksDB must.
  }
  for (auto& [day, family] : records) {
    auto it = s->parts.find(day);
    if (it == s->parts.end()) {
      // Created right before a crash, before its partition: nothing was
      // written to it yet, so completing the pair loses nothing.
      auto name = partition_name(day);
      auto cf = s->create_family(name, s->index_opts);
      if (!cf)
        return cf.error();
      it = s->parts
             .emplace(day,
                      partition_ref{name, day, std::move(*cf), nullptr,
                                    max_time_ns, min_time_ns})
             .first;
    }
    it->second.records = std::move(family);
  }
  for (auto& [day, p] : s->parts)
    if (!p.records)
      p.records = p.cf; // Written before records had their own family.
  rocksdb::ReadOptions ro;
  std::string value;
  auto st = s->db->Get(ro, s->meta_cf.get(), meta_sequence_key(), &value);
  if (st.ok() && value.size() == 8)
    s->next_seq = read_u64(value);
  else if (st.IsNotFound())
    s->next_seq = std::max<uint64_t>(s->opts.first_id, 1);
  else
    return st.ok() ? caf::make_error(ec::storage_failure,
                                     "malformed sequence number in meta")
                   : to_error(st, "cannot read the sequence number");
  for (auto& [day, p] : s->parts) {
    st = s->db->Get(ro, s->meta_cf.get(), meta_bounds_key(p.name), &value);
    if (st.ok() && value.size() == 16) {
      p.min_ts = read_ts(value);
      p.max_ts = read_ts(std::string_view{value}.substr(8));
    } else if (!st.ok() && !st.IsNotFound()) {
      return to_error(st, "cannot read bounds of " + p.name);
    }
    // Missing bounds (a partition created right before a crash) keep the
    // full range: such a partition is scanned, never wrongly skipped.
  }
  auto tally_from = first_day_of(*s, meta_tally_from_key(), "with tallies");
  if (!tally_from)
    return tally_from.error();
  auto typed_from
    = first_day_of(*s, meta_typed_from_key(), "with objects in type entries");
  if (!typed_from)
    return typed_from.error();
  auto objects_once_from = first_day_of(
    *s, meta_objects_once_from_key(), "with one uid and name entry per object");
  if (!objects_once_from)
    return objects_once_from.error();
  for (auto& [day, p] : s->parts) {
    p.tallied = day >= *tally_from;
    p.typed = day >= *typed_from;
    p.objects_once = day >= *objects_once_from;
  }
  if (auto err = s->load_gaps())
    return err;
  s->start_cooler(db_opts.max_open_files);
  return rocks_store{std::move(s)};
}

caf::expected<watch_checkpoint>
rocks_store::checkpoint(std::string_view gr) const {
  watch_checkpoint result;
  auto st = impl_->db->Get(rocksdb::ReadOptions{}, impl_->meta_cf.get(),
                           meta_checkpoint_key(gr), &result.resource_version);
  if (!st.ok() && !st.IsNotFound())
    return to_error(st, "cannot read the checkpoint of " + std::string{gr});
  if (st.IsNotFound())
    result.resource_version.clear();
  return result;
}

caf::expected<checkpoint_map> rocks_store::checkpoints() const {
  const std::string prefix = meta_checkpoint_key("");
  const std::string upper = "d"; // The successor of the prefix "c".
  rocksdb::Slice upper_slice{upper};
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{
    impl_->db->NewIterator(ro, impl_->meta_cf.get())};
  checkpoint_map result;
  for (it->Seek(prefix); it->Valid(); it->Next())
    result.emplace(it->key().ToStringView().substr(prefix.size()),
                   it->value().ToString());
  if (!it->status().ok())
    return to_error(it->status(), "cannot list checkpoints");
  return result;
}

caf::expected<std::vector<live_object>>
rocks_store::live_objects(std::string_view gr) const {
  auto prefix = meta_live_prefix(gr);
  auto upper = prefix;
  upper.back() = '\1'; // The prefix ends in '\0'; this is its successor.
  rocksdb::Slice upper_slice{upper};
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{
    impl_->db->NewIterator(ro, impl_->meta_cf.get())};
  std::vector<live_object> result;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto key = it->key().ToStringView();
    auto live = decode_live(it->value().ToStringView());
    result.push_back(live_object{std::string{key.substr(prefix.size())},
                                 std::move(live.uid),
                                 std::move(live.resource_version)});
  }
  if (!it->status().ok())
    return to_error(it->status(),
                    "cannot list live objects of " + std::string{gr});
  return result;
}

caf::expected<size_t> rocks_store::drop_expired(int64_t now_ns,
                                                uint32_t retention_days) {
  if (retention_days == 0)
    return caf::make_error(ec::invalid_argument, "retentionDays",
                           "retention must be at least one day");
  auto& s = *impl_;
  std::lock_guard writer{s.write_mtx};
  // Day d ends at (d + 1) days; it is expired once that end lies at least
  // `retention_days` before now.
  const int64_t last_expired
    = day_index(now_ns) - static_cast<int64_t>(retention_days) - 1;
  std::vector<partition_ref> expired;
  {
    std::unique_lock guard{s.mtx};
    for (auto it = s.parts.begin();
         it != s.parts.end() && it->first <= last_expired;) {
      expired.push_back(it->second);
      it = s.parts.erase(it);
    }
  }
  caf::error first_error;
  size_t dropped = 0;
  rocksdb::WriteBatch wb;
  // Gaps go with the days they end in.
  if (auto st = wb.DeleteRange(s.meta_cf.get(), gap_key_prefix,
                               gap_seek_key((last_expired + 1) * ns_per_day));
      !st.ok())
    return to_error(st, "cannot add to the write batch");
  for (auto& p : expired) {
    // Readers holding the handles keep reading their snapshot; the files go
    // away when the last of them releases them.
    if (auto st = s.db->DropColumnFamily(p.cf.get()); !st.ok()) {
      KWS_ERROR("GC error: cannot drop partition {}: {}", p.name,
                st.ToString());
      if (!first_error)
        first_error = to_error(st, "cannot drop partition " + p.name);
      std::unique_lock guard{s.mtx};
      s.parts.emplace(p.day, p);
      continue;
    }
    ++dropped;
    if (auto st = wb.Delete(s.meta_cf.get(), meta_bounds_key(p.name)); !st.ok())
      return to_error(st, "cannot add to the write batch");
    // The partition is gone for readers. Records left behind by a failure
    // here are found alone by the next `open`, which completes them to an
    // empty-bounded partition that the next run drops.
    if (p.records == p.cf)
      continue;
    if (auto st = s.db->DropColumnFamily(p.records.get()); !st.ok()) {
      KWS_ERROR("GC error: cannot drop the records of partition {}: {}", p.name,
                st.ToString());
      if (!first_error)
        first_error = to_error(st, "cannot drop the records of " + p.name);
    }
  }
  expired.clear();
  if (wb.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = s.opts.sync;
    if (auto st = s.db->Write(wo, &wb); !st.ok())
      return to_error(st, "cannot remove bounds of dropped partitions");
  }
  // A run that dropped nothing leaves the coverage as it was: the exporter
  // then has nothing to read again.
  if (s.gaps.forget_ending_before((last_expired + 1) * ns_per_day) > 0
      || dropped > 0)
    ++s.coverage_changes;
  if (first_error)
    return first_error;
  return dropped;
}

caf::error rocks_store::flush() {
  auto& s = *impl_;
  // Holds the handles while flushing: retention may drop a day meanwhile.
  auto families = s.named_families();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  handles.reserve(families.size());
  for (const auto& [name, cf] : families)
    handles.push_back(cf.get());
  if (auto st = s.db->Flush(rocksdb::FlushOptions{}, handles); !st.ok())
    return to_error(st, "cannot flush " + s.opts.path);
  return {};
}

std::vector<std::pair<std::string, rocks_store::impl::cf_ptr>>
rocks_store::impl::named_families() const {
  std::vector<std::pair<std::string, cf_ptr>> families;
  {
    std::shared_lock guard{mtx};
    for (const auto& [day, p] : parts) {
      families.emplace_back(p.name, p.cf);
      if (p.records != p.cf)
        families.emplace_back(records_name(day), p.records);
    }
  }
  families.emplace_back("meta", meta_cf);
  return families;
}

std::string rocks_store::statistics() const {
  auto& s = *impl_;
  auto families = s.named_families();
  std::string result;
  for (const auto& [name, cf] : families) {
    std::string text;
    if (!s.db->GetProperty(cf.get(), "rocksdb.cfstats-no-file-histogram",
                           &text))
      continue;
    result += "** ";
    result += name;
    result += " **\n";
    result += text;
  }
  return result;
}

std::vector<std::string> rocks_store::partitions() const {
  std::shared_lock guard{impl_->mtx};
  std::vector<std::string> result;
  for (const auto& [day, p] : impl_->parts)
    result.push_back(p.name);
  return result;
}

uint64_t first_id_now() {
  return static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch())
      .count());
}

uint64_t rocks_store::next_sequence() const {
  return impl_->next_seq;
}

bool rocks_store::compacting() const {
  auto& s = *impl_;
  if (s.cooler && s.cooler->busy())
    return true;
  uint64_t running = 0;
  for (const auto* name :
       {"rocksdb.num-running-compactions", "rocksdb.num-running-flushes"})
    if (s.db->GetIntProperty(name, &running) && running > 0)
      return true;
  for (const auto& [name, cf] : s.named_families()) {
    uint64_t pending = 0;
    for (const auto* property :
         {"rocksdb.compaction-pending", "rocksdb.mem-table-flush-pending"})
      if (s.db->GetIntProperty(cf.get(), property, &pending) && pending > 0)
        return true;
  }
  return false;
}

} // namespace kws::storage
