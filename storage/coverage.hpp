// How coverage gaps are kept in the `meta` column family: one key per gap,
// ordered by the gap's end, so the gaps overlapping a window are a seek away.
#pragma once

#include "messages/coverage.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace kws::storage {

/// The prefix of every gap key.
inline constexpr std::string_view gap_key_prefix = "g";

/// `g | end_ns | start_ns | group_resource`.
std::string gap_key(const coverage_gap& gap);

/// The first key of gaps ending at `end_ns` or later.
std::string gap_seek_key(int64_t end_ns);

/// The value: every field, length-prefixed.
std::string encode_gap(const coverage_gap& gap);

/// Reverses `encode_gap`; nullopt for a value it cannot read.
std::optional<coverage_gap> decode_gap(std::string_view in);

} // namespace kws::storage
