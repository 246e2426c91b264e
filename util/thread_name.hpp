// Names the calling thread, so that `top -H`, perf and the bench's CPU by
// thread tell the service's threads apart.
#pragma once

#include <pthread.h>

namespace kws {

/// `name` must be at most 15 characters (the kernel's limit); a longer one
/// leaves the thread's name as it was.
inline void name_this_thread(const char* name) {
  ::pthread_setname_np(::pthread_self(), name);
}

} // namespace kws
