// Helpers shared by the storage tests: per-test directories, fixtures and
// synthetic events.
#pragma once

#include "messages/resource_event.hpp"
#include "messages/resource_type.hpp"
#include "storage/key_codec.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kws::storage::test {

/// A directory unique to the running test (name + PID); removed by `clean`.
inline std::filesystem::path test_dir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string{info->test_suite_name()} + "-" + info->name();
  for (auto& c : name)
    if (c == '/')
      c = '_';
  return std::filesystem::temp_directory_path()
    / ("kws-" + name + "-" + std::to_string(::getpid()));
}

inline std::string read_fixture(const std::string& file) {
  std::ifstream in{std::string{KWS_STORAGE_TEST_DATA} + "/" + file};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline uint64_t dir_bytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code err;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator{dir, err})
    if (entry.is_regular_file(err))
      total += entry.file_size(err);
  return total;
}

inline resource_type pods() {
  return {"", "v1", "Pod", "pods", true};
}

inline resource_type nodes() {
  return {"", "v1", "Node", "nodes", false};
}

inline resource_type deployments() {
  return {"apps", "v1", "Deployment", "deployments", true};
}

inline resource_type core_events() {
  return {"", "v1", "Event", "events", true};
}

/// A minimal event as the record builder would produce it.
inline resource_event make_event(int64_t ts, verb v, std::string ns,
                                 std::string resource, std::string name,
                                 std::string uid, std::string rv,
                                 std::string user = "kubelet") {
  resource_event ev;
  ev.timestamp_ns = ts;
  ev.action = v;
  ev.ns = std::move(ns);
  ev.resource = std::move(resource);
  ev.group = ev.resource == "deployments" ? "apps" : "";
  ev.name = std::move(name);
  ev.uid = std::move(uid);
  ev.resource_version = std::move(rv);
  ev.user = std::move(user);
  ev.record = "{\"verb\":\"" + to_string(v) + "\",\"namespace\":\"" + ev.ns
    + "\",\"resourceType\":\"" + ev.resource + "\",\"resourceName\":\""
    + ev.name + "\",\"uid\":\"" + ev.uid + "\",\"resourceVersion\":\""
    + ev.resource_version + "\",\"apiVersion\":\""
    + (ev.group.empty() ? std::string{"v1"} : ev.group + "/v1")
    + "\",\"ts\":" + std::to_string(ts) + "}";
  return ev;
}

} // namespace kws::storage::test
