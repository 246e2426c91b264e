#include "bench/stamps.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <utility>

namespace kws::bench {

static_assert(std::atomic<int64_t>::is_always_lock_free,
              "stamps are shared between processes");

namespace {

void* map_file(int fd, size_t size, const std::string& path) {
  auto* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED)
    throw std::runtime_error("cannot map " + path);
  return p;
}

} // namespace

stamp_file stamp_file::create(const std::string& path, uint64_t events) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot create " + path);
  stamp_file result;
  result.size_ = sizeof(stamp_head) + events * sizeof(event_stamp);
  // A fresh file reads as zeros: no event written yet.
  if (::ftruncate(fd, static_cast<off_t>(result.size_)) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot size " + path);
  }
  result.base_ = map_file(fd, result.size_, path);
  result.head().events = events;
  return result;
}

stamp_file stamp_file::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0)
    throw std::runtime_error("cannot open " + path);
  auto size = ::lseek(fd, 0, SEEK_END);
  if (size < static_cast<off_t>(sizeof(stamp_head))) {
    ::close(fd);
    throw std::runtime_error("not a stamp file: " + path);
  }
  stamp_file result;
  result.size_ = static_cast<size_t>(size);
  result.base_ = map_file(fd, result.size_, path);
  return result;
}

stamp_file::stamp_file(stamp_file&& other) noexcept
    : base_{std::exchange(other.base_, nullptr)}, size_{std::exchange(
                                                    other.size_, 0)} {}

stamp_file& stamp_file::operator=(stamp_file&& other) noexcept {
  std::swap(base_, other.base_);
  std::swap(size_, other.size_);
  return *this;
}

stamp_file::~stamp_file() {
  if (base_ != nullptr)
    ::munmap(base_, size_);
}

int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace kws::bench
