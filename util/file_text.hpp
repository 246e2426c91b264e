#pragma once

#include <string>

namespace kws {

/// Reads the whole file at `path`, byte for byte, into `out`; false when it
/// cannot be opened or read (`errno` then tells why).
bool read_file_text(const std::string& path, std::string& out);

} // namespace kws
