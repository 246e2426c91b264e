// Reads /proc/self/task/<tid>/{comm,stat}: utime and stime are the 14th and
// 15th fields, counted after the parenthesized name, which may hold spaces.
#include "bench/thread_cpu.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace kws::bench {

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in{p};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// utime + stime in seconds from a stat line; 0 when it cannot be read.
double cpu_of_stat(const std::string& stat) {
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream fields{stat.substr(close + 2)};
  std::string field;
  double ticks = 0;
  // Fields after the name start at the 3rd (state); utime is the 14th.
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i >= 14)
      ticks += std::strtod(field.c_str(), nullptr);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string group_name(std::string name) {
  while (!name.empty() && (name.back() == '\n' || name.back() == ' '))
    name.pop_back();
  while (!name.empty()
         && std::isdigit(static_cast<unsigned char>(name.back())) != 0)
    name.pop_back();
  return name;
}

} // namespace

thread_sample sample_threads() {
  thread_sample s;
  std::error_code err;
  for (const auto& e : fs::directory_iterator{"/proc/self/task", err}) {
    auto tid = std::atoi(e.path().filename().c_str());
    auto stat = read_all(e.path() / "stat");
    if (tid == 0 || stat.empty())
      continue; // The thread ended while the directory was read.
    s.threads[tid]
      = {group_name(read_all(e.path() / "comm")), cpu_of_stat(stat)};
  }
  return s;
}

std::map<std::string, double> cpu_by_name(const thread_sample& before,
                                          const thread_sample& after) {
  std::map<std::string, double> sums;
  for (const auto& [tid, t] : after.threads) {
    auto was = before.threads.find(tid);
    // A thread id reused by a newer thread started from zero.
    double start = was != before.threads.end() && was->second.name == t.name
      ? was->second.cpu_s
      : 0;
    sums[t.name] += t.cpu_s - start;
  }
  return sums;
}

} // namespace kws::bench
