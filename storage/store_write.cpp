// Writing a batch: dedup against the live state, ids, the change fields of
// every record (store_versions.cpp), index entries, checkpoints and gaps,
// all in one WriteBatch.
#include "storage/change_enricher.hpp"
#include "storage/change_tally.hpp"
#include "storage/coverage.hpp"
#include "storage/index_entry.hpp"
#include "storage/key_codec.hpp"
#include "storage/live_state.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_impl.hpp"
#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace kws::storage {

namespace {

/// Updates marked `drop_if_status_only` that changed only `status` are not
/// stored. Their objects' live states take their resourceVersions but keep
/// locating the last stored version, so that the next stored update is
/// diffed against it. Returns the places in `plan` of the dropped ones and
/// rewrites `overlay` (the live values to write) for their objects.
std::unordered_set<size_t> drop_status_only(
  const std::vector<planned_record>& plan,
  const std::unordered_map<std::string, std::optional<live_state>>&
    stored_before,
  int64_t day,
  std::unordered_map<std::string, std::optional<std::string>>& overlay) {
  std::unordered_set<size_t> dropped;
  std::unordered_set<std::string_view> objects;
  for (size_t n = 0; n < plan.size(); ++n) {
    const auto& item = plan[n];
    if (item.event->drop_if_status_only
        && item.facts.cls == change_class::status) {
      dropped.insert(n);
      objects.insert(item.live_key);
    }
  }
  if (dropped.empty())
    return dropped;
  std::unordered_map<std::string_view, std::optional<live_state>> live;
  for (size_t n = 0; n < plan.size(); ++n) {
    const auto& item = plan[n];
    if (!objects.contains(item.live_key))
      continue;
    auto it = live.find(item.live_key);
    if (it == live.end()) {
      auto before = stored_before.find(item.live_key);
      it = live
             .emplace(item.live_key,
                      before == stored_before.end() ? std::nullopt
                                                    : before->second)
             .first;
    }
    const auto& ev = *item.event;
    if (ev.action == verb::remove) {
      it->second.reset();
      continue;
    }
    live_state next;
    next.uid = ev.uid;
    next.resource_version = ev.resource_version;
    if (!dropped.contains(n)) {
      next.located = true;
      next.day = day;
      next.pos = position{ev.timestamp_ns, item.seq};
    } else if (it->second && it->second->uid == ev.uid && it->second->located) {
      next.located = true;
      next.day = it->second->day;
      next.pos = it->second->pos;
    }
    it->second = std::move(next);
  }
  for (const auto& [key, state] : live)
    overlay[std::string{key}]
      = state ? std::optional<std::string>{encode_live(*state)} : std::nullopt;
  return dropped;
}

/// A little more than the write batch of `plan` holds: each record's JSON,
/// and its summary and index entries, whose keys repeat the record's names.
/// Counting 1 KiB for those, the benchmark's batches came to 92–102 % of
/// the estimate; a quarter more leaves room for longer names.
size_t batch_bytes(const std::vector<planned_record>& plan) {
  constexpr size_t per_record = 1280;
  size_t bytes = 0;
  for (const auto& item : plan)
    bytes += item.record.size() + per_record;
  return bytes;
}

/// Whether a repeat of this event's stored resourceVersion is dropped.
bool is_repeatable(const resource_event& ev) {
  return ev.action != verb::remove && !ev.uid.empty()
    && !ev.resource_version.empty();
}

/// The live states before this batch of the objects whose events `reads`,
/// by live key, in one `MultiGet`: RocksDB then looks up the batch's keys
/// in order, sharing the memtable, filter and index work a lookup each
/// would repeat.
template <class Reads>
caf::error read_live_states(
  rocksdb::DB& db, rocksdb::ColumnFamilyHandle* meta,
  const std::vector<resource_event>& events,
  const std::vector<std::string>& live_keys, Reads reads,
  std::unordered_map<std::string, std::optional<live_state>>& out) {
  std::vector<size_t> wanted;
  for (size_t i = 0; i < events.size(); ++i)
    if (reads(events[i]) && out.emplace(live_keys[i], std::nullopt).second)
      wanted.push_back(i);
  if (wanted.empty())
    return {};
  std::vector<rocksdb::Slice> keys;
  keys.reserve(wanted.size());
  for (auto i : wanted)
    keys.emplace_back(live_keys[i]);
  std::vector<rocksdb::PinnableSlice> values(wanted.size());
  std::vector<rocksdb::Status> statuses(wanted.size());
  db.MultiGet(rocksdb::ReadOptions{}, meta, keys.size(), keys.data(),
              values.data(), statuses.data());
  for (size_t n = 0; n < wanted.size(); ++n) {
    const auto& st = statuses[n];
    if (st.ok())
      out[live_keys[wanted[n]]] = decode_live(values[n].ToStringView());
    else if (!st.IsNotFound())
      return to_error(st,
                      "cannot read live state of " + events[wanted[n]].name);
  }
  return {};
}

} // namespace

caf::expected<write_result> rocks_store::write(
  const std::vector<resource_event>& events, const checkpoint_map& checkpoints,
  const std::vector<coverage_gap>& gaps, const cursor_map& cursors) {
  auto& s = *impl_;
  std::lock_guard writer{s.write_mtx};
  write_result result;
  if (events.empty() && checkpoints.empty() && gaps.empty() && cursors.empty())
    return result;
  // A live state or previous version that could not be read would make an
  // update look like a create, with no diff.
  const auto failed_opens = s.files.counter->failures();
  auto part = s.partition_for(day_index(s.opts.clock()));
  if (!part)
    return part.error();
  auto* cf = part->cf.get();
  auto* records = part->records.get();
  auto* meta = s.meta_cf.get();
  // Later events of the same object in this batch must see the live state
  // left by earlier ones, which the database does not have yet.
  std::unordered_map<std::string, std::optional<std::string>> overlay;
  uint64_t seq = s.next_seq;
  int64_t min_ts = max_time_ns;
  int64_t max_ts = min_time_ns;
  // First, in order: which events are stored (a repeat of the stored
  // resourceVersion is not), their ids, and the version each update
  // follows: an earlier event of this batch or a stored record.
  std::vector<planned_record> plan;
  plan.reserve(events.size());
  // The newest event of each object in this batch, by live key, and its
  // place in the plan: only it writes the object's live state.
  std::unordered_map<std::string, const resource_event*> batch_newest;
  std::unordered_map<std::string, size_t> last_planned;
  // Each object's live state before this batch, where it was read.
  std::unordered_map<std::string, std::optional<live_state>> stored_before;
  std::vector<std::string> live_keys;
  live_keys.reserve(events.size());
  for (const auto& ev : events)
    live_keys.push_back(meta_live_prefix(group_resource(ev.resource, ev.group))
                        + live_key(ev.ns, ev.name));
  // A delete reads it only to know whether its object has its entries
  // today.
  auto reads_live = [&](const resource_event& ev) {
    return is_repeatable(ev)
      || (ev.action == verb::remove && part->objects_once);
  };
  if (auto err = read_live_states(*s.db, meta, events, live_keys, reads_live,
                                  stored_before))
    return err;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& ev = events[i];
    auto lk = std::move(live_keys[i]);
    std::optional<live_state> current;
    const bool repeatable = is_repeatable(ev);
    if (reads_live(ev)) {
      if (auto it = overlay.find(lk); it != overlay.end()) {
        if (it->second)
          current = decode_live(*it->second);
      } else {
        current = stored_before.at(lk);
      }
      if (repeatable && current && current->uid == ev.uid
          && current->resource_version == ev.resource_version) {
        ++result.dropped;
        continue;
      }
    }
    planned_record item;
    item.event = &ev;
    item.seq = ev.seq != 0 ? ev.seq : seq++;
    seq = std::max(seq, item.seq + 1);
    if (ev.action == verb::update && current && current->uid == ev.uid) {
      if (auto it = batch_newest.find(lk); it != batch_newest.end())
        item.previous_in_batch = it->second;
      else if (current->located)
        item.previous_stored = *current;
    }
    if (ev.action == verb::remove) {
      overlay[lk] = std::nullopt;
      batch_newest.erase(lk);
    } else {
      live_state next;
      next.uid = ev.uid;
      next.resource_version = ev.resource_version;
      next.located = true;
      next.day = part->day;
      next.pos = position{ev.timestamp_ns, item.seq};
      overlay[lk] = encode_live(next);
      batch_newest[lk] = &ev;
    }
    last_planned[lk] = plan.size();
    item.live_key = std::move(lk);
    plan.push_back(std::move(item));
  }
  // Then the diffs, side by side: each needs only its own event and the
  // version before it, whose snapshot enrichment leaves as it was.
  if (auto err = s.enrich(plan))
    return err;
  if (auto err = files_failed(s.files.counter.get(), failed_opens))
    return err;
  auto skipped = drop_status_only(plan, stored_before, part->day, overlay);
  // Sized once for the whole batch: grown by doubling, it copied itself
  // again and again and left megabytes of freed pages behind each batch.
  rocksdb::WriteBatch wb{batch_bytes(plan)};
  auto put = [&](rocksdb::ColumnFamilyHandle* h, const std::string& k,
                 const std::string& v) -> caf::error {
    if (auto st = wb.Put(h, k, v); !st.ok())
      return to_error(st, "cannot add to the write batch");
    return {};
  };
  for (auto n : skipped)
    ++result.status_dropped[group_resource(plan[n].event->resource,
                                           plan[n].event->group)];
  // Whether the object already has its `u` and `o` entries today: written
  // by an earlier batch (its newest stored record is of today) or by this
  // one. By object and uid: a name may come back with another uid (its
  // second `o` entry is then one more of the same object), and a uid shared
  // by two objects (never by Kubernetes) still finds both.
  std::unordered_set<std::string> marked;
  auto marked_today = [&](const planned_record& item) {
    const auto& uid = item.event->uid;
    if (!part->objects_once)
      return false;
    if (!marked.insert(item.live_key + '\0' + uid).second)
      return true;
    auto before = stored_before.find(item.live_key);
    return before != stored_before.end() && before->second
      && before->second->located && before->second->day == part->day
      && before->second->uid == uid;
  };
  for (size_t n = 0; n < plan.size(); ++n) {
    auto& item = plan[n];
    const auto& ev = *item.event;
    if (skipped.contains(n))
      continue;
    auto id = format_id(item.seq);
    auto summary = summarize(ev, item.facts.cls);
    auto value = encode_record_value(summary, id, item.record);
    if (!value)
      return caf::make_error(ec::invalid_argument,
                             "event " + std::to_string(&ev - events.data())
                               + " (" + ev.resource + " " + ev.name
                               + "): " + error_detail(value.error()));
    const position pos{ev.timestamp_ns, item.seq};
    auto keys = index_keys(summary, pos);
    if (marked_today(item))
      std::erase_if(keys, [](const std::string& k) {
        return k[0] == static_cast<char>(index_kind::uid)
          || k[0] == static_cast<char>(index_kind::name);
      });
    const rocksdb::Slice key_part{keys.front()};
    const std::array<rocksdb::Slice, 2> value_parts{
      rocksdb::Slice{value->head},
      rocksdb::Slice{value->tail.data(), value->tail.size()}};
    if (auto st = wb.Put(records, rocksdb::SliceParts{&key_part, 1},
                         rocksdb::SliceParts{value_parts.data(), 2});
        !st.ok())
      return to_error(st, "cannot add to the write batch");
    for (size_t k = 1; k < keys.size(); ++k)
      if (auto err = put(
            cf, keys[k],
            encode_index_value(static_cast<index_kind>(keys[k][0]), summary)))
        return err;
    for (const auto& [key, operand] : tally_operands(keys, summary, pos))
      if (auto st = wb.Merge(cf, key, operand); !st.ok())
        return to_error(st, "cannot add to the write batch");
    min_ts = std::min(min_ts, ev.timestamp_ns);
    max_ts = std::max(max_ts, ev.timestamp_ns);
    result.ids.push_back(std::move(id));
    ++result.written;
  }
  // Each object's live state after its last event here: the overlay's.
  for (const auto& [lk, n] : last_planned) {
    const auto& live = overlay[lk];
    if (!live) {
      if (auto st = wb.Delete(meta, lk); !st.ok())
        return to_error(st, "cannot add to the write batch");
    } else if (auto err = put(meta, lk, *live)) {
      return err;
    }
  }
  const auto now = s.opts.clock();
  auto coverage_changed = !gaps.empty();
  for (const auto& [gr, rv] : checkpoints) {
    if (auto err = put(meta, meta_checkpoint_key(gr), rv))
      return err;
    auto before = wb.Count();
    if (auto err = s.note_first_watch(wb, gr, now))
      return err;
    coverage_changed = coverage_changed || wb.Count() != before;
  }
  {
    std::string alive;
    append_ts(alive, now);
    if (auto err = put(meta, meta_alive_key(), alive))
      return err;
  }
  for (const auto& gap : gaps)
    if (auto err = put(meta, gap_key(gap), encode_gap(gap)))
      return err;
  for (const auto& [name, at] : cursors) {
    std::string value;
    append_u64(value, at);
    if (auto err = put(meta, meta_cursor_key(name), value))
      return err;
  }
  if (result.written > 0) {
    std::string next;
    append_u64(next, seq);
    if (auto err = put(meta, meta_sequence_key(), next))
      return err;
    // Widen the bounds readers prune by before the records become visible.
    std::unique_lock guard{s.mtx};
    auto& p = s.parts.at(part->day);
    p.min_ts = std::min(p.min_ts, min_ts);
    p.max_ts = std::max(p.max_ts, max_ts);
    if (auto err
        = put(meta, meta_bounds_key(p.name), encode_bounds(p.min_ts, p.max_ts)))
      return err;
  }
  if (wb.Count() == 0)
    return result;
  rocksdb::WriteOptions wo;
  wo.sync = s.opts.sync;
  if (auto st = s.db->Write(wo, &wb); !st.ok())
    return to_error(st,
                    "cannot write a batch of " + std::to_string(result.written)
                      + " records to " + s.opts.path);
  s.next_seq = seq;
  if (!gaps.empty())
    s.gaps.add(gaps);
  if (coverage_changed)
    ++s.coverage_changes;
  return result;
}

} // namespace kws::storage
