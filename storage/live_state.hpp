// The `meta` value of a live object: what STORAGE knows of the newest stored
// version of each object, so a repeat is dropped and an update is diffed
// against the version before it.
#pragma once

#include "storage/key_codec.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace kws::storage {

/// The newest stored version of one object.
struct live_state {
  std::string uid;
  std::string resource_version;
  /// False for values written before versions were located (uid and
  /// resourceVersion only): such an object's next update has no diff.
  bool located = false;
  /// Ingest day of the partition holding the version, and its position.
  int64_t day = 0;
  position pos;
};

/// `uid \0 rv` then, when located, `\0 \x01 day ts seq`.
std::string encode_live(const live_state& x);

/// Reads both layouts; an unreadable tail leaves `located` false.
live_state decode_live(std::string_view value);

} // namespace kws::storage
