// The store as an exporter's outbox: records in the order they were written,
// found through the `i` index (ids are the sequence number in hex, so that
// index is in write order), and a cursor per exporter in `meta`. A record
// leaves the outbox only when its exporter moves the cursor past it, after
// the far side acknowledged it.
#include "storage/key_codec.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_impl.hpp"
#include "storage/store_scan.hpp"
#include "util/errors.hpp"

#include <rocksdb/iterator.h>

namespace kws::storage {

std::string meta_cursor_key(std::string_view name) {
  std::string key = "x";
  key.append(name);
  return key;
}

namespace {

caf::expected<std::vector<stored_record>>
records_after_in(const read_view& view, uint64_t after, size_t max) {
  std::vector<stored_record> out;
  const char id_tag = static_cast<char>(index_kind::id);
  auto start = std::string(1, id_tag) + format_id(after + 1);
  auto ro = view.options();
  // `i` keys of every id share no prefix: the walk crosses prefixes.
  ro.total_order_seek = true;
  // The exporter reads each record once, right after it was written:
  // caching its blocks would only push out the blocks queries read.
  ro.fill_cache = false;
  std::string value;
  // Partitions are ingest days and sequence numbers grow with ingest, so
  // the days in order hold the records in order.
  for (const auto& part : view.parts) {
    std::unique_ptr<rocksdb::Iterator> it{
      view.db->NewIterator(ro, part.cf.get())};
    for (it->Seek(start); it->Valid() && out.size() < max; it->Next()) {
      auto key = std::string_view{it->key().data(), it->key().size()};
      if (key.empty() || key.front() != id_tag)
        break;
      auto pos = key_position(key);
      if (!pos)
        return caf::make_error(ec::storage_failure,
                               "malformed id index key in " + part.name);
      auto decoded = read_record_value(view, ro, part, *pos, value);
      if (!decoded)
        return decoded.error();
      auto& summary = decoded->first;
      out.push_back(stored_record{
        pos->seq, std::move(summary.uid), std::string{decoded->second},
        std::move(summary.link_ns), std::move(summary.link_resource),
        std::move(summary.link_name)});
    }
    if (!it->status().ok())
      return to_error(it->status(), "cannot walk the ids of " + part.name);
    if (out.size() >= max)
      break;
  }
  return out;
}

} // namespace

caf::expected<std::vector<stored_record>>
rocks_store::records_after(uint64_t after, size_t max) const {
  auto view = impl_->view();
  return view.vouch(records_after_in(view, after, max));
}

caf::expected<uint64_t>
rocks_store::export_cursor(std::string_view name) const {
  std::string value;
  auto st = impl_->db->Get(rocksdb::ReadOptions{}, impl_->meta_cf.get(),
                           meta_cursor_key(name), &value);
  if (st.IsNotFound())
    return uint64_t{0};
  if (!st.ok())
    return to_error(st, "cannot read the export cursor");
  if (value.size() != 8)
    return caf::make_error(ec::storage_failure,
                           "malformed export cursor in meta");
  return read_u64(value);
}

caf::error rocks_store::set_export_cursor(std::string_view name, uint64_t seq) {
  std::string value;
  append_u64(value, seq);
  rocksdb::WriteOptions wo;
  wo.sync = impl_->opts.sync;
  auto st
    = impl_->db->Put(wo, impl_->meta_cf.get(), meta_cursor_key(name), value);
  if (!st.ok())
    return to_error(st, "cannot move the export cursor");
  return {};
}

} // namespace kws::storage
