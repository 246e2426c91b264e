// What several fuzz targets share.
#pragma once

#include "rest/query_params.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kws::fuzz {

/// A resolver over the resource types of the recorded discovery documents,
/// as discovery answers `resourceType` in production. Built once.
const rest::resolver_fn& recorded_resolver();

/// Aborts with `what` when `ok` is false: a broken invariant is a finding
/// just like a crash, and libFuzzer keeps the input that caused it.
void check(bool ok, const char* what);

/// The fuzzer's bytes as text.
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

} // namespace kws::fuzz
