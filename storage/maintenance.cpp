// Maintenance of the history store: online backup, restore into an empty
// directory and the consistency check of every partition. Kept apart from
// opening, writing and queries; shares `rocks_store::impl` (store_impl.hpp).
#include "storage/change_tally.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_scan.hpp"
#include "util/errors.hpp"

#include <rocksdb/utilities/checkpoint.h>

#include <filesystem>
#include <unordered_set>

namespace kws::storage {

namespace {

/// Whether `part` has an entry in the `u` or `o` run `key` would be in,
/// naming `record`'s object: a partition with one such entry per object
/// (`objects_once`) keeps the first written, which may lie at any time of
/// the day (a create from a list carries the object's creation time).
bool object_marked(const read_view& view, const partition_ref& part,
                   const std::string& key, const record_summary& record) {
  auto prefix = key.substr(0, key.size() - position_bytes);
  std::unique_ptr<rocksdb::Iterator> it{
    view.db->NewIterator(view.options(), part.cf.get())};
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    auto found = it->key().ToStringView();
    if (found.size() != key.size())
      continue;
    auto entry = decode_index_entry(found, it->value().ToStringView());
    if (entry && entry->ns == record.ns && entry->resource == record.resource
        && entry->name == record.name)
      return true;
  }
  return false;
}

/// Checks every key of `family`, one column family of `part`: each record
/// against its index entries, each index entry against its record.
caf::error verify_family(const read_view& view, const partition_ref& part,
                         rocksdb::ColumnFamilyHandle* family, uint64_t newest,
                         std::unordered_set<uint64_t>& seen,
                         consistency_report& report) {
  const char time_tag = static_cast<char>(index_kind::time);
  const bool shared = part.records == part.cf;
  // Across every prefix: the index family's prefix filters must not apply.
  auto ro = view.options();
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it{view.db->NewIterator(ro, family)};
  // What the `c` tallies count against the entries they count.
  object_tally tallied;
  size_t objects = 0;
  size_t links = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = it->key().ToStringView();
    if (!key.empty() && key[0] == static_cast<char>(index_kind::tally)) {
      ++report.tallies;
      auto t = decode_tally(it->value().ToStringView());
      if (!decode_tally_key(key) || !t)
        report.problems.push_back("undecodable tally in " + part.name);
      else
        add_tally(tallied, *t);
      continue;
    }
    if (!key.empty() && key[0] == static_cast<char>(index_kind::object))
      ++objects;
    if (!key.empty() && key[0] == static_cast<char>(index_kind::link))
      ++links;
    auto pos = key_position(key);
    if (!pos || key.empty()) {
      report.problems.push_back("short key in " + part.name);
      continue;
    }
    const bool is_record
      = key[0] == time_tag && key.size() == 1 + position_bytes;
    if (!shared && is_record != (family == part.records.get())) {
      report.problems.push_back(
        std::string{"'"} + key[0] + "' key of " + format_id(pos->seq)
        + " in the wrong column family of " + part.name);
      continue;
    }
    if (is_record) {
      ++report.records;
      if (pos->seq > newest)
        report.problems.push_back("record " + format_id(pos->seq)
                                  + " is newer than the sequence number");
      if (!seen.insert(pos->seq).second)
        report.problems.push_back("id " + format_id(pos->seq)
                                  + " is not unique");
      auto decoded = decode_record_value(it->value().ToStringView());
      if (!decoded) {
        report.problems.push_back("undecodable record " + format_id(pos->seq));
        continue;
      }
      if (decoded->second.find("\"id\":\"" + format_id(pos->seq) + "\"") != 1)
        report.problems.push_back("record " + format_id(pos->seq)
                                  + " does not start with its id");
      if (pos->ts < part.min_ts || pos->ts > part.max_ts)
        report.problems.push_back("record " + format_id(pos->seq)
                                  + " lies outside its partition bounds");
      auto keys = index_keys(decoded->first, *pos);
      for (size_t i = 1; i < keys.size(); ++i) {
        const auto kind = static_cast<index_kind>(keys[i][0]);
        bool found = false;
        if ((kind == index_kind::uid || kind == index_kind::name)
            && part.objects_once) {
          found = object_marked(view, part, keys[i], decoded->first);
        } else {
          std::string value;
          auto st
            = view.db->Get(view.options(), part.cf.get(), keys[i], &value);
          if (st.ok())
            if (auto entry = decode_index_entry(keys[i], value))
              found = same_entry(kind, {part.typed, part.objects_once}, *entry,
                                 decoded->first);
        }
        if (!found)
          report.problems.push_back(std::string{"record "} + format_id(pos->seq)
                                    + " lacks its '" + keys[i][0]
                                    + "' index entry");
      }
    } else {
      ++report.index_entries;
      if (!decode_index_entry(key, it->value().ToStringView()))
        report.problems.push_back(std::string{"undecodable '"} + key[0]
                                  + "' index entry of " + format_id(pos->seq));
      auto record_key = std::string(1, time_tag) + encode_position(*pos);
      std::string value;
      auto st
        = view.db->Get(view.options(), part.records.get(), record_key, &value);
      if (!st.ok())
        report.problems.push_back(std::string{"'"} + key[0]
                                  + "' index entry without record "
                                  + format_id(pos->seq));
    }
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot verify partition " + part.name);
  if (part.tallied && family == part.cf.get()) {
    if (tallied.creates + tallied.updates + tallied.deletes != objects)
      report.problems.push_back("the tallies of " + part.name
                                + " count other records than its entries");
    if (tallied.warnings + tallied.normals != links)
      report.problems.push_back("the tallies of " + part.name
                                + " count other Events than its entries");
  }
  return {};
}

} // namespace

caf::error rocks_store::backup(const std::string& dir,
                               const std::string& root) const {
  namespace fs = std::filesystem;
  // A backup never goes into (or over) a directory that is there already.
  std::error_code err;
  if (fs::symlink_status(dir, err).type() != fs::file_type::not_found)
    return caf::make_error(ec::already_exists, "dest",
                           dir
                             + " exists already; a backup goes into a new "
                               "directory");
  // The first backup on a fresh volume makes the root; deeper directories
  // are the caller's to make, so that a typo is not a new tree.
  const auto parent = fs::path{dir}.parent_path();
  auto base = fs::path{root}.lexically_normal();
  if (!base.has_filename())
    base = base.parent_path();
  if (!fs::exists(root, err) && parent == base) {
    fs::create_directories(root, err);
    if (err)
      return caf::make_error(ec::storage_failure,
                             "cannot make backupRoot " + root + ": "
                               + err.message());
  }
  if (!fs::is_directory(parent, err))
    return caf::make_error(ec::invalid_argument, "dest",
                           "the parent directory " + parent.string()
                             + " of dest does not exist");
  auto real_parent = fs::canonical(parent, err);
  auto real_root = err ? fs::path{} : fs::canonical(root, err);
  if (err)
    return caf::make_error(ec::storage_failure,
                           "cannot resolve " + dir + ": " + err.message());
  auto rel = real_parent.lexically_relative(real_root);
  if (rel.empty() || *rel.begin() == "..")
    return caf::make_error(ec::invalid_argument, "dest",
                           "dest leaves backupRoot " + root
                             + " through a symbolic link");
  rocksdb::Checkpoint* raw = nullptr;
  if (auto st = rocksdb::Checkpoint::Create(impl_->db.get(), &raw); !st.ok())
    return to_error(st, "cannot start a backup");
  std::unique_ptr<rocksdb::Checkpoint> cp{raw};
  // log_size_for_flush = 0: always flush first, so the copy holds SST files
  // (hard links) and only a short WAL tail.
  if (auto st = cp->CreateCheckpoint(dir, 0); !st.ok())
    return to_error(st, "cannot back up to " + dir);
  return {};
}

caf::error rocks_store::restore(const std::string& backup_dir,
                                const std::string& target_dir,
                                uint64_t first_id) {
  namespace fs = std::filesystem;
  std::error_code err;
  if (!fs::exists(fs::path{backup_dir} / "CURRENT", err))
    return caf::make_error(ec::not_found, "no backup in " + backup_dir);
  if (fs::exists(target_dir, err) && !fs::is_empty(target_dir, err))
    return caf::make_error(ec::invalid_argument,
                           "restore target " + target_dir + " is not empty");
  fs::create_directories(target_dir, err);
  if (err)
    return caf::make_error(ec::storage_failure,
                           "cannot create " + target_dir + ": "
                             + err.message());
  for (const auto& entry : fs::directory_iterator{backup_dir, err}) {
    if (!entry.is_regular_file())
      continue;
    fs::copy_file(entry.path(), fs::path{target_dir} / entry.path().filename(),
                  err);
    if (err)
      return caf::make_error(ec::storage_failure,
                             "cannot copy " + entry.path().string() + ": "
                               + err.message());
  }
  if (err)
    return caf::make_error(ec::storage_failure,
                           "cannot read " + backup_dir + ": " + err.message());
  // Opening replays the WAL tail and proves the copy is usable.
  store_options opts;
  opts.path = target_dir;
  auto restored = open(std::move(opts));
  if (!restored)
    return restored.error();
  auto& r = *restored->impl_;
  if (r.next_seq >= first_id)
    return {};
  std::string next;
  append_u64(next, first_id);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto st = r.db->Put(wo, r.meta_cf.get(), meta_sequence_key(), next);
      !st.ok())
    return to_error(st, "cannot set the next id of " + target_dir);
  r.next_seq = first_id;
  return {};
}

namespace {

caf::expected<consistency_report> verify_in(const read_view& view) {
  consistency_report report;
  auto newest = newest_seq(view);
  if (!newest)
    return newest.error();
  std::unordered_set<uint64_t> seen;
  for (const auto& part : view.parts) {
    for (auto* family : part.families())
      if (auto err = verify_family(view, part, family, *newest, seen, report))
        return err;
  }
  return report;
}

} // namespace

caf::expected<consistency_report> rocks_store::verify() const {
  auto view = impl_->view();
  return view.vouch(verify_in(view));
}

rocks_store::memory_use rocks_store::memory() const {
  auto& s = *impl_;
  memory_use m;
  m.block_cache = s.cache ? s.cache->GetUsage() : 0;
  s.db->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables",
                                 &m.memtables);
  s.db->GetAggregatedIntProperty("rocksdb.estimate-table-readers-mem",
                                 &m.table_readers);
  return m;
}

rocks_store::disk_use rocks_store::disk() const {
  auto& s = *impl_;
  disk_use d;
  s.db->GetAggregatedIntProperty("rocksdb.live-sst-files-size", &d.live_files);
  s.db->GetAggregatedIntProperty("rocksdb.estimate-pending-compaction-bytes",
                                 &d.pending_compaction);
  return d;
}

} // namespace kws::storage
