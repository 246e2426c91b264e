// When the real-path benchmark's apiserver wrote each watch event, shared
// between its process and the measuring one through a memory-mapped file.
// Times are CLOCK_MONOTONIC nanoseconds (std::chrono::steady_clock), which
// both processes read alike.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace kws::bench {

/// One event's times; 0 = not yet.
struct event_stamp {
  /// When the event was due: its slot at a fixed rate, else when its write
  /// began. Freshness counts from here.
  std::atomic<int64_t> due_ns{0};
  /// When its bytes had been handed to the client's socket (first write).
  /// Watch lag counts from here.
  std::atomic<int64_t> sent_ns{0};
};

/// The file's head.
struct stamp_head {
  uint64_t events = 0;
  /// Events written so far (a prefix of the stream).
  std::atomic<uint64_t> sent{0};
};

/// A stamp file mapped into this process.
class stamp_file {
public:
  /// Creates (or truncates) the file for `events` events and maps it.
  static stamp_file create(const std::string& path, uint64_t events);

  /// Maps an existing file.
  static stamp_file open(const std::string& path);

  stamp_file() = default;
  stamp_file(stamp_file&& other) noexcept;
  stamp_file& operator=(stamp_file&& other) noexcept;
  stamp_file(const stamp_file&) = delete;
  stamp_file& operator=(const stamp_file&) = delete;
  ~stamp_file();

  stamp_head& head() { return *static_cast<stamp_head*>(base_); }
  event_stamp& at(uint64_t i) {
    return static_cast<event_stamp*>(
      static_cast<void*>(static_cast<char*>(base_) + sizeof(stamp_head)))[i];
  }
  uint64_t events() { return base_ == nullptr ? 0 : head().events; }

private:
  void* base_ = nullptr;
  size_t size_ = 0;
};

/// Nanoseconds of std::chrono::steady_clock (CLOCK_MONOTONIC).
int64_t monotonic_ns();

} // namespace kws::bench
