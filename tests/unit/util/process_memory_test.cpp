#include "util/process_memory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

long resident_kib() {
  long pages = 0;
  long rss = 0;
  if (auto* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2)
      rss = 0;
    std::fclose(f);
  }
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

} // namespace

TEST(process_memory_test, release_free_returns_freed_heap_to_the_kernel) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's allocator";
#endif
  // 64 KiB blocks come from the heap, not from mmap; the last one stays, so
  // freeing the rest leaves a hole glibc keeps unless told otherwise.
  constexpr size_t block = size_t{64} * 1024;
  constexpr size_t count = 1024;
  std::vector<void*> blocks;
  for (size_t i = 0; i < count; ++i) {
    blocks.push_back(std::malloc(block));
    ASSERT_NE(blocks.back(), nullptr);
    std::memset(blocks.back(), 1, block);
  }
  for (size_t i = 0; i + 1 < count; ++i)
    std::free(blocks[i]);
  const long held = resident_kib();
  kws::process_memory::release_free();
  const long released = resident_kib();
  std::free(blocks.back());
  // 64 MiB were freed; most of it must leave the resident set.
  EXPECT_GT(held - released, 48 * 1024)
    << "resident before " << held << " KiB, after " << released << " KiB";
}
