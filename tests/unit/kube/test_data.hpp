// Access to the fixture files in tests/unit/kube/data.
#pragma once

#include <string>

namespace kws::kube::test {

/// Returns the contents of data/<name>; fails the test when missing.
std::string fixture(const std::string& name);

/// A fresh empty directory under the system temp dir.
std::string temp_dir(const std::string& prefix);

/// Writes `text` to `path` (creating it), returns `path`.
std::string write_file(const std::string& path, const std::string& text);

} // namespace kws::kube::test
