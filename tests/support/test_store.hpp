// A RocksDB store for actor tests, in a fresh directory named after the
// running test, so suites and parallel runs never share one.
#pragma once

#include "storage/rocks_store.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

namespace kws::test {

/// An empty directory `<tmp>/<prefix>-<test name>-<pid>`, removed first if
/// an earlier run left it.
inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
  auto info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path()
    / (prefix + "-" + std::string{info->name()} + "-"
       + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

/// Opens a store in `fresh_test_dir(prefix)` and sets `dir` to it; null,
/// with a test failure, when it cannot.
inline std::shared_ptr<storage::rocks_store>
open_test_store(const std::string& prefix, std::filesystem::path& dir) {
  dir = fresh_test_dir(prefix);
  storage::store_options opts;
  opts.path = dir.string();
  auto s = storage::rocks_store::open(opts);
  if (!s) {
    ADD_FAILURE() << "cannot open a store in " << dir << ": "
                  << render(s.error());
    return nullptr;
  }
  return std::make_shared<storage::rocks_store>(std::move(*s));
}

} // namespace kws::test
