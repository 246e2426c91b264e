// The non-template parts of the store's walks (store_scan.hpp).
#include "storage/store_scan.hpp"

#include "storage/parallel_read.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"

#include <chrono>
#include <iterator>

namespace kws::storage {

namespace {

/// The records one partition contributes to a read, in key order.
struct partition_reads {
  const partition_ref* part = nullptr;
  /// Indexes into the hits.
  std::vector<size_t> hits;
  std::vector<std::string> keys;
  std::vector<rocksdb::Slice> slices;
  std::vector<rocksdb::PinnableSlice> values;
  std::vector<rocksdb::Status> statuses;
};

/// One MultiGet: keys `[first, last)` of `reads`.
struct read_job {
  partition_reads* reads;
  size_t first;
  size_t last;
};

/// An iterator over the index entries of a partition under `prefix`, and
/// the upper bound it points at (so neither copied nor moved).
class prefix_iterator {
public:
  prefix_iterator(const read_view& view, const partition_ref& part,
                  const std::string& prefix)
      : upper_{prefix} {
    // Every key under `prefix` sorts before `prefix` with its last byte
    // raised (prefixes end in '\0').
    upper_.back() = '\1';
    upper_slice_ = upper_;
    auto ro = view.options();
    ro.iterate_upper_bound = &upper_slice_;
    it_.reset(view.db->NewIterator(ro, part.cf.get()));
  }
  prefix_iterator(const prefix_iterator&) = delete;
  prefix_iterator& operator=(const prefix_iterator&) = delete;
  prefix_iterator(prefix_iterator&&) = delete;
  prefix_iterator& operator=(prefix_iterator&&) = delete;
  ~prefix_iterator() = default;

  rocksdb::Iterator* operator->() const { return it_.get(); }

private:
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

} // namespace

void settle(source& src, bool descending) {
  while (src.it->Valid()) {
    auto key = src.it->key();
    if (key.size() == src.key_size) {
      src.pos = *key_position(key.ToStringView());
      return;
    }
    if (descending)
      src.it->Prev();
    else
      src.it->Next();
  }
}

caf::expected<std::vector<std::string>> each_run(const read_view& view,
                                                 const partition_ref& part,
                                                 const std::string& prefix) {
  prefix_iterator it{view, part, prefix};
  std::vector<std::string> runs;
  std::string next = prefix;
  for (it->Seek(next); it->Valid(); it->Seek(next)) {
    auto rest = it->key().ToStringView().substr(prefix.size());
    auto nul = rest.find('\0');
    if (nul == std::string_view::npos)
      break;
    runs.push_back(prefix);
    runs.back().append(rest.substr(0, nul + 1));
    // Past every key of this run: its '\0' raised.
    next = runs.back();
    next.back() = '\1';
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot read partition " + part.name);
  return runs;
}

caf::expected<std::vector<std::string>> object_runs(const read_view& view,
                                                    const partition_ref& part,
                                                    const std::string& prefix) {
  if (!part.objects_once)
    return std::vector<std::string>{prefix};
  prefix_iterator it{view, part, prefix};
  std::vector<std::string> runs;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto key = it->key().ToStringView();
    if (key.size() != prefix.size() + position_bytes)
      continue;
    auto entry = decode_index_entry(key, it->value().ToStringView());
    if (!entry)
      return entry.error();
    auto run = index_prefix(index_kind::object,
                            {entry->ns, entry->resource, entry->name});
    if (std::find(runs.begin(), runs.end(), run) == runs.end())
      runs.push_back(std::move(run));
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot read partition " + part.name);
  return runs;
}

caf::expected<std::vector<std::vector<std::string>>>
walk_prefixes(const read_view& view, const scan_spec& spec,
              const std::vector<const partition_ref*>& parts) {
  std::vector<std::vector<std::string>> prefixes(parts.size());
  const bool by_object = !spec.prefix.empty()
    && (spec.prefix[0] == static_cast<char>(index_kind::uid)
        || spec.prefix[0] == static_cast<char>(index_kind::name));
  if (!spec.each_run && !by_object) {
    for (auto& p : prefixes)
      p.push_back(spec.prefix);
    return prefixes;
  }
  std::vector<caf::error> errors(parts.size());
  view.pool->run(
    parts.size(),
    [&](size_t i) {
      auto runs = by_object ? object_runs(view, *parts[i], spec.prefix)
                            : each_run(view, *parts[i], spec.prefix);
      if (runs)
        prefixes[i] = std::move(*runs);
      else
        errors[i] = std::move(runs.error());
    },
    view.slow_seek);
  for (auto& err : errors)
    if (err)
      return std::move(err);
  return prefixes;
}

/// Reads the records of `hits` into `out` (same order). Each partition's
/// keys are sorted, so RocksDB walks each file once instead of seeking per
/// record, and split into parts (`read_parts`); the parts of all
/// partitions are read by the caller and `view.pool`. Ranges of many keys
/// are handed out at once; the few records a history reads per day, one
/// part each, only once reading one of them turns out to wait for the
/// disk.
caf::error fetch_records(const read_view& view, const std::vector<hit>& hits,
                         std::vector<std::string>& out) {
  std::vector<partition_reads> parts;
  for (size_t i = 0; i < hits.size(); ++i) {
    auto same
      = [&](const partition_reads& r) { return r.part == hits[i].part; };
    auto it = std::find_if(parts.begin(), parts.end(), same);
    if (it == parts.end()) {
      parts.emplace_back().part = hits[i].part;
      it = std::prev(parts.end());
    }
    it->hits.push_back(i);
  }
  const auto readers = static_cast<unsigned>(view.pool->helpers()) + 1;
  std::vector<read_job> jobs;
  bool large = false;
  for (auto& r : parts) {
    // Index order within one partition is position order, i.e. key order.
    std::sort(r.hits.begin(), r.hits.end(),
              [&](size_t a, size_t b) { return hits[a].pos < hits[b].pos; });
    for (auto i : r.hits)
      r.keys.push_back(index_prefix(index_kind::time, {})
                       + encode_position(hits[i].pos));
    r.slices.assign(r.keys.begin(), r.keys.end());
    r.values.resize(r.keys.size());
    r.statuses.resize(r.keys.size());
    for (auto [first, last] : read_parts(r.keys.size(), readers)) {
      jobs.push_back(read_job{&r, first, last});
      large = large || last - first >= min_keys_per_reader;
    }
  }
  view.pool->run(
    jobs.size(),
    [&](size_t i) {
      auto [r, first, last] = jobs[i];
      view.db->MultiGet(view.options(), r->part->records.get(), last - first,
                        r->slices.data() + first, r->values.data() + first,
                        r->statuses.data() + first, true);
    },
    large ? std::chrono::microseconds{0} : view.slow_seek);
  std::vector<std::optional<std::string>> records(hits.size());
  for (auto& r : parts) {
    for (size_t k = 0; k < r.hits.size(); ++k) {
      if (!r.statuses[k].ok()) {
        if (!r.statuses[k].IsNotFound())
          return to_error(r.statuses[k],
                          "cannot read partition " + r.part->name);
        // Indexes and records share one WriteBatch, so this means damage;
        // answer with what is readable and leave a trace.
        KWS_WARN("rocks_store skips a dangling index entry in {}",
                 r.part->name);
        continue;
      }
      auto decoded = decode_record_value(r.values[k].ToStringView());
      if (!decoded)
        return decoded.error();
      records[r.hits[k]] = std::string{decoded->second};
    }
  }
  for (auto& r : records)
    if (r)
      out.push_back(std::move(*r));
  return {};
}

/// The sequence number of the newest record the snapshot holds.
caf::expected<uint64_t> newest_seq(const read_view& view) {
  std::string value;
  auto st = view.db->Get(view.options(), view.meta_cf.get(),
                         meta_sequence_key(), &value);
  if (st.IsNotFound())
    return uint64_t{0};
  if (!st.ok())
    return to_error(st, "cannot read the sequence number");
  if (value.size() != 8)
    return caf::make_error(ec::storage_failure,
                           "malformed sequence number in meta");
  return read_u64(value) - 1;
}

caf::expected<std::pair<record_summary, std::string_view>>
read_record_value(const read_view& view, const rocksdb::ReadOptions& ro,
                  const partition_ref& part, position pos, std::string& value) {
  auto key = index_prefix(index_kind::time, {}) + encode_position(pos);
  auto st = view.db->Get(ro, part.records.get(), key, &value);
  if (!st.ok())
    return to_error(st,
                    "cannot read record " + format_id(pos.seq)
                      + " of partition " + part.name);
  return decode_record_value(value);
}

caf::expected<std::string_view> read_record(const read_view& view,
                                            const partition_ref& part,
                                            position pos, std::string& buffer) {
  std::string value;
  auto decoded = read_record_value(view, view.options(), part, pos, value);
  if (!decoded)
    return decoded.error();
  buffer.assign(decoded->second);
  return std::string_view{buffer};
}

} // namespace kws::storage
