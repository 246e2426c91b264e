// The fixture of the configuration tests: files in the test's own
// directory and an environment the test sets.
#pragma once

#include "config/load.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace kws::config {

struct load_test : ::testing::Test {
  std::map<std::string, std::string> vars;
  std::filesystem::path dir;

  void SetUp() override {
    auto info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir = std::filesystem::temp_directory_path()
      / ("kws-config-" + std::string{info->name()} + "-"
         + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
  }

  void TearDown() override { std::filesystem::remove_all(dir); }

  env_lookup env() {
    return [this](const char* name) -> std::optional<std::string> {
      auto i = vars.find(name);
      if (i == vars.end())
        return std::nullopt;
      return i->second;
    };
  }

  std::string write(const std::string& text) {
    auto path = dir / "resources.yaml";
    std::ofstream{path} << text;
    return path.string();
  }

  /// The error text of loading `text`; fails the test when it loads.
  std::string error_of(const std::string& text) {
    auto result = load(write(text), env());
    if (result) {
      ADD_FAILURE() << "expected an error for:\n" << text;
      return {};
    }
    EXPECT_EQ(result.error(), ec::config_error);
    return render(result.error());
  }
};

} // namespace kws::config
