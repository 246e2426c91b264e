// The allocator's share of the process's memory. glibc keeps freed memory
// for reuse, per arena; RocksDB frees blocks of many sizes all the time
// (flushes, compactions, reads), and that retained memory grew to twice what
// the process had in use. These two calls keep the resident set near the
// memory in use. Executables linked with jemalloc (the default build) have
// its own settings instead (util/allocator_conf.cpp); there these calls
// reach only glibc's malloc, which nothing then uses.
#pragma once

namespace kws::process_memory {

/// Caps glibc's malloc arenas at `n` unless MALLOC_ARENA_MAX says
/// otherwise. glibc's default, eight per core, counts the node's cores in
/// a container, not the pod's CPU limit. Call before any thread starts.
void limit_arenas(int n);

/// Gives the free pages of every arena back to the kernel.
void release_free();

/// The arenas the service runs with: its threads are a handful (actor
/// workers, the Kubernetes client's io thread, RocksDB's two background
/// jobs), and more arenas only hold more freed memory.
constexpr int service_arenas = 2;

} // namespace kws::process_memory
