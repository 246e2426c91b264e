// CPU time of each of the process's threads, so that a phase's CPU can be
// told by thread: the io thread, CAF's workers (WATCHERs, CORRELATOR),
// STORAGE, RocksDB's flushes and compactions.
#pragma once

#include <map>
#include <string>

namespace kws::bench {

/// CPU seconds (user + system) of every live thread, by thread id, with
/// the thread's name.
struct thread_sample {
  struct thread {
    std::string name;
    double cpu_s = 0;
  };
  std::map<int, thread> threads;
};

thread_sample sample_threads();

/// CPU seconds spent between `before` and `after`, summed by thread name
/// with trailing digits dropped ("rocksdb:low3" counts as "rocksdb:low").
/// A thread that ended in between is missing from the sum.
std::map<std::string, double> cpu_by_name(const thread_sample& before,
                                          const thread_sample& after);

} // namespace kws::bench
