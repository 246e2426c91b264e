// The walks every read of the store is made of: one index under a key
// prefix in each partition whose time bounds overlap, merged by (timestamp,
// sequence number), and the batched reads of the records behind the
// entries. Shared by the translation units that answer queries.
#pragma once

#include "storage/index_entry.hpp"
#include "storage/key_codec.hpp"
#include "storage/store_impl.hpp"

#include <rocksdb/iterator.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws::storage {

constexpr uint64_t max_seq_value = std::numeric_limits<uint64_t>::max();

/// What one walk over an index visits.
struct scan_spec {
  std::string prefix;
  int64_t start_ns = min_time_ns;
  int64_t end_ns = max_time_ns;
  bool descending = false;
  /// Exclusive resume position (the last record of the previous page).
  std::optional<position> after;
  /// Entries with a larger sequence number are skipped.
  uint64_t max_seq = max_seq_value;
  /// Walks each run `prefix + component \0` under `prefix`, merged, rather
  /// than `prefix` itself: a namespace's records are its types' runs of
  /// the `m` index (`each_run`).
  bool each_run = false;
};

/// One partition's iterator. The bounds must outlive the iterator, hence
/// members in this order and a stable address (held by unique_ptr).
struct source {
  /// Points into the read_view, which outlives every scan.
  const partition_ref* part = nullptr;
  std::string lower;
  std::string upper;
  rocksdb::Slice lower_slice;
  rocksdb::Slice upper_slice;
  std::unique_ptr<rocksdb::Iterator> it;
  position pos;
  /// The length of this walk's keys: its prefix and a position.
  size_t key_size = 0;
};

/// Moves `src` to the next entry that is exactly `prefix + ts | seq`, or
/// leaves it invalid. Keys of a longer component sharing the prefix bytes
/// are skipped here; the summary filters would reject them anyway.
void settle(source& src, bool descending);

/// The runs `prefix + component \0` of `part`'s index under `prefix`, in
/// key order: one seek per run found.
caf::expected<std::vector<std::string>> each_run(const read_view& view,
                                                 const partition_ref& part,
                                                 const std::string& prefix);

/// The prefixes a walk of the `u` or `o` run `prefix` takes in `part`:
/// itself, or where the partition has one such entry per object
/// (`objects_once`) the `h` runs of the objects its entries name (a uid's:
/// one, Kubernetes gives each object its own uid and an object never
/// changes it). Those runs' entries hold every field such a walk filters
/// on, the uid included.
caf::expected<std::vector<std::string>> object_runs(const read_view& view,
                                                    const partition_ref& part,
                                                    const std::string& prefix);

/// The prefixes `spec` walks in each of `parts`: `spec.prefix`, its runs
/// there with `spec.each_run`, or a uid's or name's objects' (`object_runs`);
/// found side by side on the read pool where they take seeks, which may wait
/// for the disk.
caf::expected<std::vector<std::vector<std::string>>>
walk_prefixes(const read_view& view, const scan_spec& spec,
              const std::vector<const partition_ref*>& parts);

/// Calls `fn(part, key, pos, value)` for each entry under `spec.prefix`, in
/// order across partitions, until `fn` returns false.
template <class F>
caf::error scan(const read_view& view, const scan_spec& spec, F&& fn) {
  // Positions are inclusive here.
  position lo{spec.start_ns, 0};
  position hi{spec.end_ns, max_seq_value};
  if (spec.after) {
    auto a = *spec.after;
    if (!spec.descending) {
      if (a.seq == max_seq_value) {
        if (a.ts == max_time_ns)
          return {};
        a = position{a.ts + 1, 0};
      } else {
        a.seq += 1;
      }
      lo = std::max(lo, a);
    } else {
      if (a.seq == 0) {
        if (a.ts == min_time_ns)
          return {};
        a = position{a.ts - 1, max_seq_value};
      } else {
        a.seq -= 1;
      }
      hi = std::min(hi, a);
    }
  }
  if (lo > hi)
    return {};
  const bool records = !spec.prefix.empty()
    && spec.prefix[0] == static_cast<char>(index_kind::time);
  std::vector<const partition_ref*> parts;
  for (const auto& part : view.parts)
    if (part.min_ts <= hi.ts && part.max_ts >= lo.ts)
      parts.push_back(&part);
  auto prefixes = walk_prefixes(view, spec, parts);
  if (!prefixes)
    return prefixes.error();
  std::vector<std::unique_ptr<source>> sources;
  for (size_t p = 0; p < parts.size(); ++p) {
    for (const auto& prefix : (*prefixes)[p]) {
      auto src = std::make_unique<source>();
      src->part = parts[p];
      src->key_size = prefix.size() + position_bytes;
      src->lower = prefix + encode_position(lo);
      // `hi` is inclusive; appending a byte makes the bound exclusive just
      // past it.
      src->upper = prefix + encode_position(hi) + '\0';
      src->lower_slice = rocksdb::Slice{src->lower};
      src->upper_slice = rocksdb::Slice{src->upper};
      sources.push_back(std::move(src));
    }
  }
  // The first seek of a partition reads its filter, index and data blocks;
  // outside the page cache each waits for the disk, so the partitions of a
  // query seek side by side once one of them turns out to wait.
  view.pool->run(
    sources.size(),
    [&](size_t i) {
      auto& src = *sources[i];
      auto ro = view.options();
      ro.iterate_lower_bound = &src.lower_slice;
      ro.iterate_upper_bound = &src.upper_slice;
      src.it.reset(view.db->NewIterator(
        ro, records ? src.part->records.get() : src.part->cf.get()));
      if (spec.descending)
        src.it->SeekToLast();
      else
        src.it->Seek(src.lower_slice);
      settle(src, spec.descending);
    },
    view.slow_seek);
  auto check = [&]() -> caf::error {
    for (auto& src : sources)
      if (!src->it->status().ok())
        return to_error(src->it->status(),
                        "cannot read partition " + src->part->name);
    return {};
  };
  for (;;) {
    source* best = nullptr;
    for (auto& src : sources) {
      if (!src->it->Valid())
        continue;
      if (best == nullptr
          || (spec.descending ? src->pos > best->pos : src->pos < best->pos))
        best = src.get();
    }
    if (best == nullptr)
      break;
    if (best->pos.seq <= spec.max_seq
        && !fn(*best->part, best->it->key().ToStringView(), best->pos,
               best->it->value().ToStringView()))
      return check();
    if (spec.descending)
      best->it->Prev();
    else
      best->it->Next();
    settle(*best, spec.descending);
  }
  return check();
}

/// A page holds at most this many bytes of JSON (then `X-Has-More`).
constexpr size_t max_page_bytes = size_t{8} << 20;

/// A matching index entry whose record is still to be read.
struct hit {
  const partition_ref* part;
  position pos;
};

/// Reads the records of `hits` into `out` (same order). Each partition's
/// keys are sorted, so RocksDB walks each file once instead of seeking per
/// record, and split into parts (`read_parts`); the parts of all
/// partitions are read by the caller and `view.pool`. Ranges of many keys
/// are handed out at once; the few records a history reads per day, one
/// part each, only once reading one of them turns out to wait for the
/// disk.
caf::error fetch_records(const read_view& view, const std::vector<hit>& hits,
                         std::vector<std::string>& out);

/// The sequence number of the newest record the snapshot holds.
caf::expected<uint64_t> newest_seq(const read_view& view);

/// Reads the `r` value at `pos` of `part` into `value` with `ro`; its
/// summary and JSON, which point into `value`.
caf::expected<std::pair<record_summary, std::string_view>>
read_record_value(const read_view& view, const rocksdb::ReadOptions& ro,
                  const partition_ref& part, position pos, std::string& value);

/// Reads the record at `pos` of `part` into `buffer`; its JSON.
caf::expected<std::string_view> read_record(const read_view& view,
                                            const partition_ref& part,
                                            position pos, std::string& buffer);

/// Decides on a record's JSON whether a walk keeps it; empty keeps all.
using record_filter = std::function<bool(std::string_view json)>;

/// Collects up to `limit` records under `spec` that pass `keep`; sets
/// `has_more` when another one follows. `last` is the position of the
/// last record collected.
/// With a `filter`, each record that passes `keep` is read at once and
/// counts only if it passes the filter as well.
/// The records stop before `max_bytes` would be exceeded (the first one is
/// always kept), which also sets `has_more`: a page then resumes after
/// `last`.
template <class Keep>
caf::error collect(const read_view& view, const scan_spec& spec, uint32_t limit,
                   Keep&& keep, std::vector<std::string>& out, bool& has_more,
                   position& last, const record_filter& filter = {},
                   size_t max_bytes = std::numeric_limits<size_t>::max()) {
  const bool time_index = !spec.prefix.empty()
    && spec.prefix[0] == static_cast<char>(index_kind::time);
  caf::error failure;
  std::vector<hit> hits;
  // Positions of the records in `out`, for a page cut by size.
  std::vector<position> kept;
  size_t found = 0;
  size_t bytes = 0;
  auto visit = [&](const partition_ref& part, std::string_view key,
                   position pos, std::string_view value) {
    record_summary summary;
    std::string_view json;
    if (time_index) {
      auto decoded = decode_record_value(value);
      if (!decoded) {
        failure = decoded.error();
        return false;
      }
      summary = std::move(decoded->first);
      json = decoded->second;
    } else {
      auto decoded = decode_index_entry(key, value);
      if (!decoded) {
        failure = decoded.error();
        return false;
      }
      summary = std::move(*decoded);
    }
    if (pos.ts < spec.start_ns || pos.ts > spec.end_ns || !keep(summary))
      return true;
    std::string buffer;
    if (filter) {
      if (!time_index) {
        auto read = read_record(view, part, pos, buffer);
        if (!read) {
          failure = read.error();
          return false;
        }
        json = *read;
      }
      if (!filter(json))
        return true;
    }
    if (found >= limit) {
      has_more = true;
      return false;
    }
    if (time_index || filter) {
      if (found > 0 && bytes + json.size() > max_bytes) {
        has_more = true;
        return false;
      }
      bytes += json.size();
      out.emplace_back(json);
    } else {
      hits.push_back(hit{&part, pos});
      kept.push_back(pos);
    }
    ++found;
    last = pos;
    return true;
  };
  auto err = scan(view, spec, visit);
  if (err)
    return err;
  if (failure)
    return failure;
  auto first = out.size();
  if (auto read = fetch_records(view, hits, out))
    return read;
  // An index walk learns the sizes only now; record first + j is kept[j].
  for (size_t j = 0; first + j < out.size(); ++j) {
    if (j > 0 && bytes + out[first + j].size() > max_bytes) {
      out.resize(first + j);
      last = kept[j - 1];
      has_more = true;
      break;
    }
    bytes += out[first + j].size();
  }
  return {};
}

} // namespace kws::storage
