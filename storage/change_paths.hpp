// Reading the change fields back out of a stored record without parsing
// its snapshot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kws::storage {

/// The `changedPaths` of a stored record (empty when it has none).
std::vector<std::string> record_changed_paths(std::string_view record);

/// True when a changed path of `record` lies under the pointer `prefix`.
bool changed_under(std::string_view record, std::string_view prefix);

} // namespace kws::storage
