#include "test_data.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace kws::kube::test {

std::string fixture(const std::string& name) {
  std::ifstream in{std::string{KWS_KUBE_TEST_DATA} + "/" + name,
                   std::ios::binary};
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_dir(const std::string& prefix) {
  std::random_device rd;
  auto path = std::filesystem::temp_directory_path()
    / (prefix + "-" + std::to_string(rd()));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path.string();
}

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
  return path;
}

} // namespace kws::kube::test
