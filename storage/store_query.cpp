// Reads of the history store: event pages, object histories and the
// consistency check. Every read runs over one snapshot, walks one index
// under a key prefix in each partition whose time bounds overlap the query,
// and merges the partitions by (timestamp, sequence number).
#include "messages/errors.hpp"
#include "messages/logging.hpp"
#include "storage/index_entry.hpp"
#include "storage/key_codec.hpp"
#include "storage/parallel_read.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_impl.hpp"

#include <rocksdb/iterator.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>
#include <optional>
#include <unordered_set>

namespace kws::storage {

namespace {

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
};

/// Moves `src` to the next entry that is exactly `prefix + ts | seq`, or
/// leaves it invalid. Keys of a longer component sharing the prefix bytes
/// are skipped here; the summary filters would reject them anyway.
void settle(source& src, size_t key_size, bool descending) {
  while (src.it->Valid()) {
    auto key = src.it->key();
    if (key.size() == key_size) {
      src.pos = *key_position(key.ToStringView());
      return;
    }
    if (descending)
      src.it->Prev();
    else
      src.it->Next();
  }
}

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
  const size_t key_size = spec.prefix.size() + position_bytes;
  const bool records = !spec.prefix.empty()
    && spec.prefix[0] == static_cast<char>(index_kind::time);
  std::vector<std::unique_ptr<source>> sources;
  for (const auto& part : view.parts) {
    if (part.min_ts > hi.ts || part.max_ts < lo.ts)
      continue;
    auto src = std::make_unique<source>();
    src->part = &part;
    src->lower = spec.prefix + encode_position(lo);
    // `hi` is inclusive; appending a byte makes the bound exclusive just
    // past it.
    src->upper = spec.prefix + encode_position(hi) + '\0';
    src->lower_slice = rocksdb::Slice{src->lower};
    src->upper_slice = rocksdb::Slice{src->upper};
    sources.push_back(std::move(src));
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
      settle(src, key_size, spec.descending);
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
    settle(*best, key_size, spec.descending);
  }
  return check();
}

/// A matching index entry whose record is still to be read.
struct hit {
  const partition_ref* part;
  position pos;
};

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

/// Collects up to `limit` records under `spec` that pass `keep`; sets
/// `has_more` when another one follows. `last` is the position of the
/// last record collected.
template <class Keep>
caf::error collect(const read_view& view, const scan_spec& spec, uint32_t limit,
                   Keep&& keep, std::vector<std::string>& out, bool& has_more,
                   position& last) {
  const bool time_index = !spec.prefix.empty()
    && spec.prefix[0] == static_cast<char>(index_kind::time);
  caf::error failure;
  std::vector<hit> hits;
  size_t found = 0;
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
    if (found >= limit) {
      has_more = true;
      return false;
    }
    ++found;
    if (time_index)
      out.emplace_back(json);
    else
      hits.push_back(hit{&part, pos});
    last = pos;
    return true;
  };
  auto err = scan(view, spec, visit);
  if (err)
    return err;
  if (failure)
    return failure;
  return fetch_records(view, hits, out);
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
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = it->key().ToStringView();
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
        std::string value;
        auto st = view.db->Get(view.options(), part.cf.get(), keys[i], &value);
        bool found = false;
        if (st.ok())
          if (auto entry = decode_index_entry(keys[i], value))
            found = same_entry(static_cast<index_kind>(keys[i][0]), *entry,
                               decoded->first);
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
  return {};
}

} // namespace

caf::expected<event_page> rocks_store::query(const event_query& q) const {
  if (q.limit == 0)
    return caf::make_error(ec::invalid_argument, "limit",
                           "limit must be at least 1");
  if (q.start_ns > q.end_ns)
    return caf::make_error(ec::invalid_argument, "start",
                           "start lies after end");
  const auto filters = filter_hash(q);
  std::optional<page_cursor> cursor;
  if (!q.continue_token.empty()) {
    auto c = decode_cursor(q.continue_token);
    if (!c)
      return c.error();
    if (c->filters != filters)
      return caf::make_error(ec::invalid_argument, "continue",
                             "the continue token belongs to a query with "
                             "other filters");
    cursor = *c;
  }
  auto view = impl_->view();
  scan_spec spec;
  spec.prefix = plan_query(q).prefix;
  spec.start_ns = q.start_ns;
  spec.end_ns = q.end_ns;
  spec.descending = q.descending;
  if (cursor) {
    spec.after = cursor->last;
    spec.max_seq = cursor->max_seq;
  } else {
    auto newest = newest_seq(view);
    if (!newest)
      return newest.error();
    spec.max_seq = *newest;
  }
  event_page page;
  position last;
  auto keep = [&q](const record_summary& s) { return matches(q, s); };
  if (auto err
      = collect(view, spec, q.limit, keep, page.records, page.has_more, last))
    return err;
  if (page.has_more)
    page.continue_token
      = encode_cursor(page_cursor{last, spec.max_seq, filters});
  return page;
}

caf::expected<object_history>
rocks_store::history(const history_query& q) const {
  if (q.limit == 0)
    return caf::make_error(ec::invalid_argument, "limit",
                           "limit must be at least 1");
  if (q.start_ns > q.end_ns)
    return caf::make_error(ec::invalid_argument, "start",
                           "start lies after end");
  if (q.resource.empty() || q.name.empty())
    return caf::make_error(ec::invalid_argument, "resourceType",
                           "an object history needs a resource and a name");
  auto view = impl_->view();
  auto own = [&q](const record_summary& s) {
    return s.ns == q.ns && s.resource == q.resource && s.name == q.name
      && (q.group.empty() || s.group == q.group);
  };
  auto about = [&q](const record_summary& s) {
    return s.link_ns == q.ns && s.link_resource == q.resource
      && s.link_name == q.name;
  };
  scan_spec watch_spec;
  watch_spec.prefix
    = index_prefix(index_kind::object, {q.ns, q.resource, q.name});
  watch_spec.start_ns = q.start_ns;
  watch_spec.end_ns = q.end_ns;
  scan_spec link_spec = watch_spec;
  link_spec.prefix = index_prefix(index_kind::link, {q.ns, q.resource, q.name});
  object_history result;
  bool more = false;
  position last;
  if (auto err = collect(view, watch_spec, q.limit, own, result.watch_events,
                         more, last))
    return err;
  if (auto err = collect(view, link_spec, q.limit, about, result.related_events,
                         more, last))
    return err;
  result.found = !result.watch_events.empty() || !result.related_events.empty();
  if (result.found || (q.start_ns == min_time_ns && q.end_ns == max_time_ns))
    return result;
  // Nothing in the time range: the object still counts as seen when any
  // retained record names it.
  for (auto* spec : {&watch_spec, &link_spec}) {
    spec->start_ns = min_time_ns;
    spec->end_ns = max_time_ns;
  }
  std::vector<std::string> probe;
  if (auto err = collect(view, watch_spec, 1, own, probe, more, last))
    return err;
  if (probe.empty())
    if (auto err = collect(view, link_spec, 1, about, probe, more, last))
      return err;
  result.found = !probe.empty();
  return result;
}

caf::expected<consistency_report> rocks_store::verify() const {
  auto view = impl_->view();
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

} // namespace kws::storage
