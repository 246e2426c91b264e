// Lowers the process's soft open-file limit (RLIMIT_NOFILE) for one test
// and restores it afterwards, whatever the test's outcome.
#pragma once

#include <sys/resource.h>

#include <algorithm>

namespace kws::test {

class lowered_open_files_limit {
public:
  /// Lowers the soft limit to `most` (never raises it); `ok()` says
  /// whether that worked.
  explicit lowered_open_files_limit(rlim_t most) {
    ok_ = getrlimit(RLIMIT_NOFILE, &before_) == 0;
    rlimit low = before_;
    low.rlim_cur = std::min(before_.rlim_cur, most);
    ok_ = ok_ && setrlimit(RLIMIT_NOFILE, &low) == 0;
  }

  lowered_open_files_limit(const lowered_open_files_limit&) = delete;
  lowered_open_files_limit& operator=(const lowered_open_files_limit&) = delete;

  ~lowered_open_files_limit() { setrlimit(RLIMIT_NOFILE, &before_); }

  bool ok() const { return ok_; }

  /// The limits before.
  const rlimit& before() const { return before_; }

private:
  rlimit before_{};
  bool ok_ = false;
};

} // namespace kws::test
