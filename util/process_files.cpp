#include "util/process_files.hpp"

#include <sys/resource.h>

namespace kws::process_files {

uint64_t raise_soft_limit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0)
    return 0;
  if (files.rlim_cur < files.rlim_max) {
    rlimit raised = files;
    raised.rlim_cur = files.rlim_max;
    // An infinite hard limit is above what the kernel lets a process open
    // (fs.nr_open): then the soft limit stays.
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      files = raised;
  }
  return files.rlim_cur;
}

} // namespace kws::process_files
