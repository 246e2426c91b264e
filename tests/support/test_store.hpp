// A RocksDB store for actor tests, in a fresh directory named after the
// running test, so suites and parallel runs never share one.
#pragma once

#include "storage/record_builder.hpp"
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

inline const resource_type configmaps_type{"", "v1", "ConfigMap", "configmaps",
                                           true};

/// The record of creating ConfigMap `default/<name>` (uid `uid-<name>`) at
/// resourceVersion `rv`, stamped `rv` ns after a fixed instant.
inline resource_event configmap_record(const std::string& name, int rv) {
  auto json = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")"
    + name + R"(","namespace":"default","uid":"uid-)" + name
    + R"(","resourceVersion":")" + std::to_string(rv)
    + R"("},"data":{"k":"v"}})";
  auto ev = storage::build_record(configmaps_type, verb::create, json,
                                  1'700'000'000'000'000'000 + rv);
  EXPECT_TRUE(ev) << render(ev.error());
  return ev ? std::move(*ev) : resource_event{};
}

} // namespace kws::test
