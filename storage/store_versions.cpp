// Reads of single versions: the previous version an update is diffed
// against at ingest.
#include "storage/key_codec.hpp"
#include "storage/store_impl.hpp"

namespace kws::storage {

caf::expected<std::string_view> rocks_store::impl::previous_record(
  const std::string& lk, const live_state& current,
  const std::unordered_map<std::string, std::string>& batch,
  std::string& buffer) const {
  if (auto it = batch.find(lk); it != batch.end())
    return std::string_view{it->second};
  if (!current.located)
    return std::string_view{};
  auto part = parts.find(current.day);
  if (part == parts.end())
    return std::string_view{};
  auto key = index_prefix(index_kind::time, {}) + encode_position(current.pos);
  std::string value;
  auto st
    = db->Get(rocksdb::ReadOptions{}, part->second.records.get(), key, &value);
  if (st.IsNotFound())
    return std::string_view{};
  if (!st.ok())
    return to_error(st, "cannot read the previous version of " + lk);
  auto decoded = decode_record_value(value);
  if (!decoded)
    return decoded.error();
  buffer.assign(decoded->second);
  return std::string_view{buffer};
}

} // namespace kws::storage
