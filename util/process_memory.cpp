#include "util/process_memory.hpp"

#include <malloc.h>

#include <cstdlib>

namespace kws::process_memory {

void limit_arenas(int n) {
  // Not thread-safe, hence the precondition: no thread runs yet.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr)
    mallopt(M_ARENA_MAX, n); // NOLINT(concurrency-mt-unsafe)
}

void release_free() {
  malloc_trim(0);
}

} // namespace kws::process_memory
