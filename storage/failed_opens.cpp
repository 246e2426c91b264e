#include "storage/failed_opens.hpp"

#include "util/errors.hpp"

namespace kws::storage {

failed_open_counter::failed_open_counter(
  const std::shared_ptr<rocksdb::FileSystem>& target)
    : rocksdb::FileSystemWrapper(target) {}

rocksdb::IOStatus failed_open_counter::NewRandomAccessFile(
  const std::string& name, const rocksdb::FileOptions& options,
  std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
  rocksdb::IODebugContext* dbg) {
  auto st = target()->NewRandomAccessFile(name, options, result, dbg);
  // A missing file is an answer RocksDB expects and handles; the store's
  // own files never go missing while it reads them.
  if (!st.ok() && !st.IsNotFound() && !st.IsPathNotFound()) {
    {
      std::lock_guard guard{mtx_};
      last_ = st.ToString();
    }
    failures_.fetch_add(1);
  }
  return st;
}

std::string failed_open_counter::last_failure() const {
  std::lock_guard guard{mtx_};
  return last_;
}

caf::error files_failed(const failed_open_counter* opens, uint64_t before) {
  if (opens == nullptr || opens->failures() == before)
    return {};
  return caf::make_error(ec::storage_failure,
                         "the store could not open one of its files while "
                         "reading ("
                           + opens->last_failure()
                           + "), so the answer could be incomplete");
}

counted_files count_failed_opens() {
  counted_files result;
  result.counter
    = std::make_shared<failed_open_counter>(rocksdb::FileSystem::Default());
  result.env = rocksdb::NewCompositeEnv(result.counter);
  return result;
}

} // namespace kws::storage
