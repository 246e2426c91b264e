// The value of a secondary index entry: the verb and the summary fields a
// query walking that index may still filter on, minus those its key holds.
// Index entries are most of what the store writes and compacts (five or
// six per record, two more per object and day), so each keeps only what its
// walks read. Pure functions, unit-tested on their own.
#pragma once

#include "storage/key_codec.hpp"

#include <caf/expected.hpp>

#include <string>
#include <string_view>

namespace kws::storage {

/// Serializes the value of the entry of `kind` (any kind but `time`) for a
/// record with summary `s`. A key component holding a `\0` could not be
/// split off the key again, so such an entry keeps its key's fields in the
/// value too.
std::string encode_index_value(index_kind kind, const record_summary& s);

/// The summary an index entry answers for: the fields of its value, and
/// its key's components for the fields the key holds. Fields that no query
/// walking this kind filters on stay empty (see `same_entry`). Reads the
/// whole summaries that stores written before carry (version 1) as well.
/// Fails with `ec::storage_failure` on bytes it cannot read.
caf::expected<record_summary> decode_index_entry(std::string_view key,
                                                 std::string_view value);

/// What the entries of a partition hold, by when it was written.
struct entry_format {
  /// Its `t` entries name the object (`partition_ref::typed`).
  bool typed = true;
  /// Its `h` entries hold the uid (`partition_ref::objects_once`).
  bool uid_in_history = true;
};

/// True when `a` and `b` agree on the verb and every field an index entry
/// of `kind` answers for in a partition of `format`: a `t` entry written
/// before they named the object answers for type and group only, an `h`
/// entry written before it held the uid for everything else.
bool same_entry(index_kind kind, entry_format format, const record_summary& a,
                const record_summary& b);

} // namespace kws::storage
