// The STORAGE actor: batches records into RocksDB and runs retention.
#pragma once

#include "actors/interfaces.hpp"

#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace kws::storage {
class rocks_store;
}

namespace kws {

/// Configuration of STORAGE.
struct storage_config {
  /// A batch is written once it holds this many records, or else as soon as
  /// the records that arrived during the previous write are collected
  /// (group commit): never later than the write before it plus one mailbox.
  size_t batch_size = 1000;
  /// Days a record is kept.
  uint32_t retention_days = 14;
  /// How often expired partitions are looked for.
  std::chrono::milliseconds retention_interval{std::chrono::hours{1}};
  /// After a write, free memory goes back to the kernel when the last time
  /// lies this long ago (process_memory.hpp); zero never does.
  std::chrono::milliseconds release_interval{std::chrono::seconds{1}};
  /// How often the store notes that the server is alive: after a crash,
  /// the "server down" coverage gap starts at most this long before it.
  std::chrono::milliseconds alive_interval{std::chrono::seconds{10}};
  /// Wall clock in nanoseconds since the epoch (injectable for tests).
  std::function<int64_t()> now;
};

/// State of STORAGE: the open store and the batch being collected.
struct storage_state {
  explicit storage_state(storage_actor::pointer self) : self{self} {}

  /// Writes the buffered batch in one WriteBatch and answers its producers.
  /// Returns the number of records written.
  uint64_t flush();

  /// Drops expired partitions and re-arms the retention timer.
  void run_retention();

  /// Notes in the store that the server is alive, publishes its memory and
  /// disk use, and re-arms the timer.
  void note_alive();

  storage_actor::pointer self;
  storage_config config;
  std::shared_ptr<storage::rocks_store> store;
  /// Records waiting for the next write, in arrival order.
  std::vector<resource_event> pending;
  /// Checkpoints to persist with them, by group_resource.
  std::map<std::string, std::string> pending_checkpoints;
  /// Coverage gaps to persist with them.
  std::vector<coverage_gap> pending_gaps;
  /// Producers waiting for their batch to become durable.
  std::vector<caf::typed_response_promise<atom::ok>> waiting;
  /// Invalidates flush requests of batches already written.
  uint64_t generation = 0;
  /// When free memory last went back to the kernel.
  std::chrono::steady_clock::time_point last_release;

  static inline const char* name = "storage";
};

/// Implements the STORAGE interface. Blocks on RocksDB: the supervisor spawns
/// it detached.
storage_actor::behavior_type
storage_writer(storage_actor::stateful_pointer<storage_state> self,
               storage_config cfg, std::shared_ptr<storage::rocks_store> store);

} // namespace kws
