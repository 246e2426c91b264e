// What `/changes` needs of each object, counted at ingest per partition:
// a `c` key per object (the components of its `h` key) whose value RocksDB
// merges as records arrive. A window that spans a whole finished partition
// reads one entry per object there instead of one per record. Pure
// functions, unit-tested on their own; the merge operator that calls
// `add_tallies` lives with the store's options.
#pragma once

#include "storage/key_codec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kws::storage {

/// One object's records and the Events about it in one partition.
struct object_tally {
  uint32_t creates = 0;
  uint32_t updates = 0;
  uint32_t deletes = 0;
  /// Kubernetes Events about the object (their `e` entries), by type.
  uint32_t warnings = 0;
  uint32_t normals = 0;
  /// Bits `1 << change_class` of its records.
  uint8_t classes = 0;
  /// Its newest record (zero when only Events are counted).
  position last;

  friend bool operator==(const object_tally&, const object_tally&) = default;
};

/// Serializes a tally (a version byte, then fixed-width fields).
std::string encode_tally(const object_tally& t);

/// Reverses `encode_tally`; `nullopt` for bytes it did not write.
std::optional<object_tally> decode_tally(std::string_view bytes);

/// Adds `b` to `a`: counts summed, classes joined, the newer `last` kept.
/// Associative and commutative, so RocksDB may merge operands in any
/// grouping.
void add_tally(object_tally& a, const object_tally& b);

/// The `c` key of the object whose `h` (or `e`) index prefix is `prefix`.
std::string tally_key_of(std::string_view index_prefix);

/// The tally operands a record adds, from its index keys (`index_keys`):
/// one to its own object (verb, class, position), and one to the object
/// an Event is about (Warning or Normal).
std::vector<std::pair<std::string, std::string>>
tally_operands(const std::vector<std::string>& index_keys,
               const record_summary& s, position pos);

/// The namespace, resource and name a `c` key names; `nullopt` for a key
/// of another shape.
struct tally_object {
  std::string_view ns;
  std::string_view resource;
  std::string_view name;
};
std::optional<tally_object> decode_tally_key(std::string_view key);

} // namespace kws::storage
