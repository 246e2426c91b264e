// Coverage gaps in the `meta` column family: written with the relist that
// closes them or on start for the time the server was down, read by
// `rocks_store::coverage`, dropped with their day. The time before a type
// was first watched is no stored gap: it is answered from its first-watch
// time.
#include "storage/coverage.hpp"

#include "storage/key_codec.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_impl.hpp"
#include "util/errors.hpp"

#include <rocksdb/iterator.h>

#include <algorithm>
#include <memory>
#include <tuple>

namespace kws::storage {

std::string gap_key(const coverage_gap& gap) {
  auto key = gap_seek_key(gap.end_ns);
  append_ts(key, gap.start_ns);
  key.append(gap.group_resource);
  return key;
}

std::string gap_seek_key(int64_t end_ns) {
  std::string key{gap_key_prefix};
  append_ts(key, end_ns);
  return key;
}

std::string encode_gap(const coverage_gap& gap) {
  std::string out;
  append_length_prefixed(out, gap.group_resource);
  append_ts(out, gap.start_ns);
  append_ts(out, gap.end_ns);
  append_length_prefixed(out, gap.from_resource_version);
  append_length_prefixed(out, gap.to_resource_version);
  append_length_prefixed(out, gap.reason);
  return out;
}

std::optional<coverage_gap> decode_gap(std::string_view in) {
  coverage_gap gap;
  if (!read_length_prefixed(in, gap.group_resource) || in.size() < 16)
    return std::nullopt;
  gap.start_ns = read_ts(in);
  gap.end_ns = read_ts(in.substr(8));
  in.remove_prefix(16);
  if (!read_length_prefixed(in, gap.from_resource_version)
      || !read_length_prefixed(in, gap.to_resource_version)
      || !read_length_prefixed(in, gap.reason) || !in.empty())
    return std::nullopt;
  return gap;
}

namespace {

/// Every resource type's first-watch time.
caf::expected<std::map<std::string, int64_t>>
first_watches(const rocks_store::impl& s) {
  auto prefix = meta_first_watch_prefix();
  std::unique_ptr<rocksdb::Iterator> it{
    s.db->NewIterator(rocksdb::ReadOptions{}, s.meta_cf.get())};
  std::map<std::string, int64_t> result;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    auto value = it->value().ToStringView();
    if (value.size() == 8)
      result.emplace_hint(
        result.end(),
        std::string{it->key().ToStringView().substr(prefix.size())},
        read_ts(value));
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot read first-watch times");
  return result;
}

} // namespace

caf::error rocks_store::impl::note_first_watch(rocksdb::WriteBatch& wb,
                                               const std::string& gr,
                                               int64_t now_ns) {
  if (first_watched.contains(gr))
    return {};
  auto key = meta_first_watch_prefix() + gr;
  std::string value;
  auto st = db->Get(rocksdb::ReadOptions{}, meta_cf.get(), key, &value);
  if (st.IsNotFound()) {
    std::string ts;
    append_ts(ts, now_ns);
    if (auto put = wb.Put(meta_cf.get(), key, ts); !put.ok())
      return to_error(put, "cannot add to the write batch");
  } else if (!st.ok()) {
    return to_error(st, "cannot read the first-watch time of " + gr);
  }
  first_watched.insert(gr);
  return {};
}

caf::expected<std::map<std::string, int64_t>>
rocks_store::first_watch_times() const {
  return first_watches(*impl_);
}

uint64_t rocks_store::coverage_changes() const {
  return impl_->coverage_changes.load();
}

caf::error
rocks_store::note_first_watch_times(const std::map<std::string, int64_t>& at) {
  auto& s = *impl_;
  std::lock_guard writer{s.write_mtx};
  auto known = first_watches(s);
  if (!known)
    return known.error();
  rocksdb::WriteBatch wb;
  for (const auto& [gr, ns] : at) {
    if (auto i = known->find(gr); i != known->end() && i->second <= ns)
      continue;
    std::string ts;
    append_ts(ts, ns);
    if (auto put = wb.Put(s.meta_cf.get(), meta_first_watch_prefix() + gr, ts);
        !put.ok())
      return to_error(put, "cannot add to the write batch");
  }
  if (wb.Count() == 0)
    return {};
  rocksdb::WriteOptions wo;
  wo.sync = s.opts.sync;
  if (auto st = s.db->Write(wo, &wb); !st.ok())
    return to_error(st, "cannot store first-watch times");
  for (const auto& [gr, ns] : at)
    s.first_watched.insert(gr);
  ++s.coverage_changes;
  return {};
}

caf::error rocks_store::mark_alive(int64_t now_ns) {
  std::string value;
  append_ts(value, now_ns);
  rocksdb::WriteOptions wo;
  wo.sync = impl_->opts.sync;
  auto st = impl_->db->Put(wo, impl_->meta_cf.get(), meta_alive_key(), value);
  if (!st.ok())
    return to_error(st, "cannot note that the server is alive");
  return {};
}

caf::expected<std::vector<coverage_gap>>
rocks_store::record_downtime(int64_t now_ns) {
  auto& s = *impl_;
  std::lock_guard writer{s.write_mtx};
  std::string alive;
  auto st = s.db->Get(rocksdb::ReadOptions{}, s.meta_cf.get(), meta_alive_key(),
                      &alive);
  std::vector<coverage_gap> gaps;
  if (!st.ok() && !st.IsNotFound())
    return to_error(st, "cannot read when the server was last alive");
  // A store written before this was noted has no such time: no gap.
  if (st.ok() && alive.size() == 8 && read_ts(alive) < now_ns) {
    auto cps = checkpoints();
    if (!cps)
      return cps.error();
    for (const auto& [gr, rv] : *cps) {
      coverage_gap gap;
      gap.group_resource = gr;
      gap.start_ns = read_ts(alive);
      gap.end_ns = now_ns;
      gap.from_resource_version = rv;
      gap.reason = "server down";
      gaps.push_back(std::move(gap));
    }
  }
  rocksdb::WriteBatch wb;
  for (const auto& gap : gaps)
    if (auto put = wb.Put(s.meta_cf.get(), gap_key(gap), encode_gap(gap));
        !put.ok())
      return to_error(put, "cannot add to the write batch");
  std::string now;
  append_ts(now, now_ns);
  if (auto put = wb.Put(s.meta_cf.get(), meta_alive_key(), now); !put.ok())
    return to_error(put, "cannot add to the write batch");
  rocksdb::WriteOptions wo;
  wo.sync = s.opts.sync;
  if (auto w = s.db->Write(wo, &wb); !w.ok())
    return to_error(w, "cannot store the downtime gaps");
  if (!gaps.empty()) {
    s.gaps.add(gaps);
    ++s.coverage_changes;
  }
  return gaps;
}

caf::error rocks_store::impl::load_gaps() {
  // The successor of the prefix bounds the scan.
  std::string upper{gap_key_prefix};
  ++upper.back();
  rocksdb::Slice upper_slice{upper};
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(ro, meta_cf.get())};
  std::vector<coverage_gap> stored;
  for (it->Seek(gap_key_prefix); it->Valid(); it->Next()) {
    auto gap = decode_gap(it->value().ToStringView());
    if (!gap)
      return caf::make_error(ec::storage_failure,
                             "cannot decode a coverage gap of the store");
    stored.push_back(std::move(*gap));
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot read coverage gaps");
  gaps.add(stored);
  return {};
}

caf::expected<uint64_t>
rocks_store::count_gaps(const gap_count_query& q) const {
  const auto& w = q.window;
  // Without a start there are no first-watch gaps: the book alone answers.
  if (w.start_ns == min_time_ns)
    return impl_->gaps.count(w.start_ns, w.end_ns, q.resource);
  auto gaps = coverage(w);
  if (!gaps)
    return gaps.error();
  return static_cast<uint64_t>(
    std::count_if(gaps->begin(), gaps->end(), [&](const coverage_gap& g) {
      return gap_of(g, q.resource);
    }));
}

caf::expected<std::vector<coverage_gap>>
rocks_store::coverage(const coverage_query& q) const {
  auto result = impl_->gaps.overlapping(q.start_ns, q.end_ns);
  if (q.start_ns != min_time_ns) {
    auto firsts = first_watches(*impl_);
    if (!firsts)
      return firsts.error();
    auto stored = result.size();
    for (const auto& [gr, first] : *firsts)
      if (first > q.start_ns) {
        coverage_gap gap;
        gap.group_resource = gr;
        gap.start_ns = q.start_ns;
        gap.end_ns = std::min(first, q.end_ns);
        gap.reason = "not yet watched";
        result.push_back(std::move(gap));
      }
    // The book's order; the first-watch gaps join it.
    if (result.size() > stored)
      std::stable_sort(result.begin(), result.end(),
                       [](const auto& a, const auto& b) {
                         return std::tie(a.start_ns, a.group_resource)
                           < std::tie(b.start_ns, b.group_resource);
                       });
  }
  return result;
}

} // namespace kws::storage
