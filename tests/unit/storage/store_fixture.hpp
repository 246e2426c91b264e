// A fixture with an empty store in the test's own directory, no fsync, and
// a clock at the moment the test names, which only the test moves
// (retention, coverage and the partitions read it).
#pragma once

#include "storage/rocks_store.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <optional>

namespace kws::storage::test {

class store_fixture : public testing::Test {
protected:
  explicit store_fixture(int64_t now_ns) : now_ns_{now_ns} {}

  void SetUp() override {
    dir_ = test_dir();
    std::filesystem::remove_all(dir_);
    open_store();
  }

  /// Opens the store in the test's directory (again, after `reset`).
  void open_store() {
    store_options opts;
    opts.path = (dir_ / "db").string();
    opts.sync = false;
    // Read at each call: a test may move the clock between writes.
    opts.clock = [this] { return now_ns_; };
    auto s = rocks_store::open(opts);
    ASSERT_TRUE(s) << render(s.error());
    store_.emplace(std::move(*s));
  }

  void TearDown() override {
    store_.reset();
    std::error_code err;
    std::filesystem::remove_all(dir_, err);
  }

  int64_t now_ns_;
  std::filesystem::path dir_;
  std::optional<rocks_store> store_;
};

} // namespace kws::storage::test
