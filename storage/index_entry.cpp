#include "storage/index_entry.hpp"

#include "util/errors.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace kws::storage {

namespace {

/// Value layout: version, verb, a 2-byte field mask, then the fields of
/// the mask in `fields` order, each length-prefixed. Version 1 is the whole
/// summary (`encode_summary`), which stores written before hold.
constexpr uint8_t entry_version = 2;

using field = std::string record_summary::*;

/// Every summary field; bit i of a mask is `fields[i]`.
constexpr std::array<field, 9> fields{
  &record_summary::ns,        &record_summary::resource,
  &record_summary::group,     &record_summary::name,
  &record_summary::uid,       &record_summary::user,
  &record_summary::link_ns,   &record_summary::link_resource,
  &record_summary::link_name,
};

constexpr uint16_t all_fields = (1u << fields.size()) - 1;

enum field_bit : uint16_t {
  f_ns = 1u << 0,
  f_resource = 1u << 1,
  f_group = 1u << 2,
  f_name = 1u << 3,
  f_uid = 1u << 4,
  f_user = 1u << 5,
  f_link_ns = 1u << 6,
  f_link_resource = 1u << 7,
  f_link_name = 1u << 8,
};

/// What the entries of one kind hold.
struct layout {
  /// The key's components, in key order.
  std::span<const field> key;
  /// The fields a walk of this kind reads: `plan_query` sends a query here
  /// only when it filters on no field that picks an earlier kind, so those
  /// are never asked of it; the history walks compare namespace, resource,
  /// name and group (`h`) and the link fields (`e`).
  uint16_t answers = 0;
};

constexpr std::array<field, 1> uid_key{&record_summary::uid};
constexpr std::array<field, 3> object_key{
  &record_summary::ns, &record_summary::resource, &record_summary::name};
constexpr std::array<field, 1> name_key{&record_summary::name};
constexpr std::array<field, 1> user_key{&record_summary::user};
constexpr std::array<field, 2> ns_resource_key{&record_summary::ns,
                                               &record_summary::resource};
constexpr std::array<field, 1> resource_key{&record_summary::resource};
constexpr std::array<field, 1> ns_key{&record_summary::ns};
constexpr std::array<field, 3> link_key{&record_summary::link_ns,
                                        &record_summary::link_resource,
                                        &record_summary::link_name};

std::optional<layout> layout_of(index_kind kind) {
  constexpr uint16_t filtered
    = f_ns | f_resource | f_group | f_name | f_uid | f_user;
  switch (kind) {
    case index_kind::uid: return layout{uid_key, filtered};
    // With the uid: a uid's records are its object's run here
    // (`partition_ref::objects_once`), and a name's its objects' runs.
    case index_kind::object: return layout{object_key, filtered};
    case index_kind::name: return layout{name_key, filtered & ~f_uid};
    case index_kind::user:
      return layout{user_key, f_ns | f_resource | f_group | f_user};
    case index_kind::ns_resource:
      return layout{ns_resource_key, f_ns | f_resource | f_group};
    case index_kind::resource:
      // A window over every namespace reads the records' objects (and
      // an Event's object) from them in time order (window_tally.cpp).
      return layout{resource_key,
                    f_ns | f_resource | f_group | f_name | f_link_ns
                      | f_link_resource | f_link_name};
    case index_kind::ns: return layout{ns_key, f_ns | f_group};
    case index_kind::link:
      return layout{link_key, f_link_ns | f_link_resource | f_link_name};
    // Its key holds the id, no field: a lookup reads the record.
    case index_kind::id: return layout{{}, 0};
    // Neither holds an index entry.
    case index_kind::time:
    case index_kind::tally: break;
  }
  return std::nullopt;
}

uint16_t bit_of(field f) {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i] == f)
      return static_cast<uint16_t>(1u << i);
  return 0;
}

uint16_t mask_of(std::span<const field> xs) {
  uint16_t mask = 0;
  for (auto f : xs)
    mask |= bit_of(f);
  return mask;
}

caf::error corrupt(std::string what) {
  return caf::make_error(ec::storage_failure, std::move(what));
}

/// Splits `key` into its tag, `n` `\0`-terminated components and the
/// position; false when it does not have exactly that shape.
bool split_key(std::string_view key, size_t n,
               std::array<std::string_view, 3>& out) {
  if (key.empty() || n > out.size())
    return false;
  size_t begin = 1;
  for (size_t i = 0; i < n; ++i) {
    auto nul = key.find('\0', begin);
    if (nul == std::string_view::npos)
      return false;
    out[i] = key.substr(begin, nul - begin);
    begin = nul + 1;
  }
  return key.size() - begin == position_bytes;
}

} // namespace

std::string encode_index_value(index_kind kind, const record_summary& s) {
  auto lay = layout_of(kind).value_or(layout{{}, all_fields});
  uint16_t mask = lay.answers & ~mask_of(lay.key);
  for (auto f : lay.key)
    if ((s.*f).find('\0') != std::string::npos)
      mask = lay.answers;
  std::string out;
  out.push_back(static_cast<char>(entry_version));
  out.push_back(encode_verb_byte(s));
  out.push_back(static_cast<char>(mask >> 8));
  out.push_back(static_cast<char>(mask & 0xff));
  for (size_t i = 0; i < fields.size(); ++i)
    if ((mask & (1u << i)) != 0)
      append_length_prefixed(out, s.*fields[i]);
  return out;
}

caf::expected<record_summary> decode_index_entry(std::string_view key,
                                                 std::string_view value) {
  if (!value.empty() && static_cast<uint8_t>(value[0]) != entry_version)
    return decode_summary(value);
  if (value.size() < 4)
    return corrupt("truncated index entry");
  record_summary s;
  if (!decode_verb_byte(value[1], s))
    return corrupt("index entry with an unknown verb");
  auto mask = static_cast<uint16_t>((static_cast<uint8_t>(value[2]) << 8)
                                    | static_cast<uint8_t>(value[3]));
  if ((mask & ~all_fields) != 0)
    return corrupt("index entry with unknown fields");
  value.remove_prefix(4);
  for (size_t i = 0; i < fields.size(); ++i)
    if ((mask & (1u << i)) != 0 && !read_length_prefixed(value, s.*fields[i]))
      return corrupt("truncated index entry");
  auto lay
    = key.empty() ? std::nullopt : layout_of(static_cast<index_kind>(key[0]));
  if (!lay)
    return corrupt("index entry under a key of no index");
  if ((mask & mask_of(lay->key)) == mask_of(lay->key))
    return s;
  std::array<std::string_view, 3> parts;
  if (!split_key(key, lay->key.size(), parts))
    return corrupt("index entry whose key does not split into its fields");
  for (size_t i = 0; i < lay->key.size(); ++i)
    if ((mask & bit_of(lay->key[i])) == 0)
      s.*lay->key[i] = parts[i];
  return s;
}

bool same_entry(index_kind kind, entry_format format, const record_summary& a,
                const record_summary& b) {
  if (a.action != b.action || a.cls != b.cls || a.warning != b.warning)
    return false;
  auto answers = layout_of(kind).value_or(layout{{}, all_fields}).answers;
  if (kind == index_kind::resource && !format.typed)
    answers = f_resource | f_group;
  if (kind == index_kind::object && !format.uid_in_history)
    answers &= ~f_uid;
  for (size_t i = 0; i < fields.size(); ++i)
    if ((answers & (1u << i)) != 0 && a.*fields[i] != b.*fields[i])
      return false;
  return true;
}

} // namespace kws::storage
