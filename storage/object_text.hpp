// Reading an object's compact JSON text without parsing it: how deep it
// nests and where its managedFields lie, so the record builder can copy the
// apiserver's bytes minus that member.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace kws::storage {

/// Deeper documents are refused before parsing: RapidJSON's writer recurses
/// once per level, and no Kubernetes object (CRD schemas included) comes
/// close to this depth.
inline constexpr size_t max_object_depth = 512;

/// True when `json` nests objects and arrays deeper than
/// `max_object_depth`.
bool nests_too_deep(std::string_view json);

/// The byte range of `"managedFields":<value>` among the members of the
/// top-level `metadata` object of `json`, with one adjoining comma, so that
/// cutting it leaves valid JSON. `{0, 0}` when there is none or `json` is
/// not shaped as expected.
std::pair<size_t, size_t> managed_fields_span(std::string_view json);

/// The value of the `"managedFields":<value>` member text `span` (which
/// may carry one comma before or after it).
std::string managed_fields_value(std::string_view span);

} // namespace kws::storage
