// What a write adds to its records: each update is diffed against the
// version before it, read from this batch or the store.
#include "storage/key_codec.hpp"
#include "storage/store_impl.hpp"

#include <algorithm>
#include <chrono>

namespace kws::storage {

caf::expected<std::string_view>
rocks_store::impl::stored_record(const live_state& version,
                                 std::string& buffer) const {
  auto part = parts.find(version.day);
  if (part == parts.end())
    return std::string_view{};
  auto key = index_prefix(index_kind::time, {}) + encode_position(version.pos);
  // Pinned in the block cache or memtable: only the record is copied out.
  rocksdb::PinnableSlice value;
  auto st
    = db->Get(rocksdb::ReadOptions{}, part->second.records.get(), key, &value);
  if (st.IsNotFound())
    return std::string_view{};
  if (!st.ok())
    return to_error(st, "cannot read the previous version of a record");
  auto decoded = decode_record_value(value.ToStringView());
  if (!decoded)
    return decoded.error();
  buffer.assign(decoded->second);
  return std::string_view{buffer};
}

caf::error rocks_store::impl::enrich(std::vector<planned_record>& plan) const {
  // Records per part: enough that claiming a part costs little beside it.
  constexpr size_t per_part = 16;
  const size_t parts = (plan.size() + per_part - 1) / per_part;
  std::vector<caf::error> errors(parts);
  auto run_part = [&](size_t p) {
    const auto end = std::min(plan.size(), (p + 1) * per_part);
    for (size_t i = p * per_part; i < end; ++i) {
      auto& item = plan[i];
      if (item.event->enriched) {
        item.record = item.event->record;
        item.facts.cls = static_cast<change_class>(item.event->stored_class);
        continue;
      }
      std::string buffer;
      std::optional<previous_version> prev;
      if (item.previous_in_batch != nullptr) {
        prev = previous_version{record_object(item.previous_in_batch->record)};
      } else if (item.previous_stored) {
        auto text = stored_record(*item.previous_stored, buffer);
        if (!text) {
          errors[p] = text.error();
          return;
        }
        if (!text->empty())
          prev = previous_version{record_object(*text)};
      }
      item.record = item.event->record;
      item.facts
        = enrich_record(*item.event, item.record, prev ? &*prev : nullptr);
    }
  };
  // A lone part runs here; more are shared with the pool's threads at once.
  pool->run(parts, run_part,
            parts > 1 ? std::chrono::microseconds{0}
                      : std::chrono::microseconds{std::chrono::hours{1}});
  for (auto& err : errors)
    if (err)
      return std::move(err);
  return {};
}

} // namespace kws::storage
