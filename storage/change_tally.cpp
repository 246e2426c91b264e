#include "storage/change_tally.hpp"

#include <algorithm>

namespace kws::storage {

namespace {

constexpr char tally_version = 1;
constexpr size_t tally_bytes = 1 + 5 * 4 + 1 + position_bytes;

void append_u32(std::string& out, uint32_t x) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((x >> shift) & 0xff));
}

uint32_t read_u32(std::string_view in) {
  uint32_t x = 0;
  for (size_t i = 0; i < 4; ++i)
    x = (x << 8) | static_cast<uint8_t>(in[i]);
  return x;
}

/// Counts saturate rather than wrap: a count cannot turn small again.
uint32_t sum(uint32_t a, uint32_t b) {
  return b > UINT32_MAX - a ? UINT32_MAX : a + b;
}

} // namespace

std::string encode_tally(const object_tally& t) {
  std::string out;
  out.reserve(tally_bytes);
  out.push_back(tally_version);
  for (auto x : {t.creates, t.updates, t.deletes, t.warnings, t.normals})
    append_u32(out, x);
  out.push_back(static_cast<char>(t.classes));
  out += encode_position(t.last);
  return out;
}

std::optional<object_tally> decode_tally(std::string_view bytes) {
  if (bytes.size() != tally_bytes || bytes[0] != tally_version)
    return std::nullopt;
  object_tally t;
  auto in = bytes.substr(1);
  for (auto* x :
       {&t.creates, &t.updates, &t.deletes, &t.warnings, &t.normals}) {
    *x = read_u32(in);
    in.remove_prefix(4);
  }
  t.classes = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  t.last = *key_position(in);
  return t;
}

void add_tally(object_tally& a, const object_tally& b) {
  a.creates = sum(a.creates, b.creates);
  a.updates = sum(a.updates, b.updates);
  a.deletes = sum(a.deletes, b.deletes);
  a.warnings = sum(a.warnings, b.warnings);
  a.normals = sum(a.normals, b.normals);
  a.classes |= b.classes;
  a.last = std::max(a.last, b.last);
}

std::string tally_key_of(std::string_view index_prefix) {
  std::string key{index_prefix};
  key[0] = static_cast<char>(index_kind::tally);
  return key;
}

std::vector<std::pair<std::string, std::string>>
tally_operands(const std::vector<std::string>& index_keys,
               const record_summary& s, position pos) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& key : index_keys) {
    if (key.size() <= position_bytes)
      continue;
    auto prefix = std::string_view{key}.substr(0, key.size() - position_bytes);
    object_tally t;
    if (key[0] == static_cast<char>(index_kind::object)) {
      switch (s.action) {
        case verb::create: t.creates = 1; break;
        case verb::update: t.updates = 1; break;
        case verb::remove: t.deletes = 1; break;
      }
      t.classes = static_cast<uint8_t>(1u << static_cast<uint8_t>(s.cls));
      t.last = pos;
    } else if (key[0] == static_cast<char>(index_kind::link)) {
      (s.warning ? t.warnings : t.normals) = 1;
    } else {
      continue;
    }
    out.emplace_back(tally_key_of(prefix), encode_tally(t));
  }
  return out;
}

std::optional<tally_object> decode_tally_key(std::string_view key) {
  if (key.empty() || key[0] != static_cast<char>(index_kind::tally))
    return std::nullopt;
  std::string_view parts[3];
  size_t from = 1;
  for (auto& part : parts) {
    auto nul = key.find('\0', from);
    if (nul == std::string_view::npos)
      return std::nullopt;
    part = key.substr(from, nul - from);
    from = nul + 1;
  }
  if (from != key.size())
    return std::nullopt;
  return tally_object{parts[0], parts[1], parts[2]};
}

} // namespace kws::storage
