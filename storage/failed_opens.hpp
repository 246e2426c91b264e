// This RocksDB (7.8) has been seen to end a scan early with an OK status
// when it could not open a table file, the process being out of file
// descriptors: an incomplete answer that looks complete. Every file the
// store opens for reading goes through `failed_open_counter`, which counts
// the opens that failed for any reason but the file's absence, so that a
// read during which the count moved answers with an error instead.
#pragma once

#include <caf/error.hpp>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace kws::storage {

class failed_open_counter final : public rocksdb::FileSystemWrapper {
public:
  explicit failed_open_counter(
    const std::shared_ptr<rocksdb::FileSystem>& target);

  const char* Name() const override { return "KwsFailedOpenCounter"; }

  rocksdb::IOStatus
  NewRandomAccessFile(const std::string& name,
                      const rocksdb::FileOptions& options,
                      std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                      rocksdb::IODebugContext* dbg) override;

  /// The opens that failed so far.
  uint64_t failures() const { return failures_.load(); }

  /// The newest failure as RocksDB told it ("" before the first).
  std::string last_failure() const;

private:
  std::atomic<uint64_t> failures_ = 0;
  mutable std::mutex mtx_;
  std::string last_;
};

/// The process's file system behind a counter, and the Env a store opens
/// its database with (it outlives the database).
struct counted_files {
  std::shared_ptr<failed_open_counter> counter;
  std::unique_ptr<rocksdb::Env> env;
};

counted_files count_failed_opens();

/// An error naming the newest failed open when `opens` counts more failures
/// than `before`.
caf::error files_failed(const failed_open_counter* opens, uint64_t before);

} // namespace kws::storage
