// Phase 1 of kws_bench: ingest through the service's own pipeline
// (splitter, scanner, WATCHER-like actors, CORRELATOR, STORAGE) and report
// it, with the store left at rest for the phases after it.
#pragma once

#include "bench/bench_options.hpp"
#include "bench/json_out.hpp"
#include "bench/resource_use.hpp"
#include "bench/workload.hpp"
#include "storage/rocks_store.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace kws::bench {

/// What generating the workload costs on the producing thread; subtracted
/// from wall time so both ingest figures measure only the system under test.
struct gen_stats {
  uint64_t bytes = 0;
  double seconds = 0;
  uint64_t count[num_kinds] = {};
  uint64_t kind_bytes[num_kinds] = {};
};

struct ingest_result {
  double wall_s = 0;
  double gen_s = 0;
  double net_s = 0;
  /// CPU of the io thread: reading the streams, splitting and scanning.
  double io_s = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;
  uint64_t stored = 0;
  uint64_t malformed = 0;
  uint64_t batches = 0;
  /// CPU seconds of all threads during the measured ingest.
  double cpu_s = 0;
  /// Memory when the measured ingest starts (what the peak starts from) and
  /// when it ends, before the actors are gone.
  memory_split start;
  memory_split end;
  storage::rocks_store::memory_use rocks_end;
  /// CPU seconds by thread name (`thread_cpu.hpp`).
  std::map<std::string, double> cpu_by_thread;
};

/// How many events the ingest replays and how fast.
struct pace {
  uint64_t events = 0;
  /// 0: as fast as the pipeline takes them.
  double events_per_s = 0;
};

/// Generates `how.events` events of `w` into files under `stream_dir`,
/// then feeds them through the pipeline into `store` as real watchers
/// would, at `how.events_per_s`. `while_ingesting`, when given, runs on this
/// thread once the replay has started; the ingest is over only when it has
/// returned and every event is durable.
ingest_result run_pipeline(const options& opt, workload& w,
                           std::shared_ptr<storage::rocks_store> store,
                           std::atomic<int64_t>& fake_now, gen_stats& gs,
                           const std::filesystem::path& stream_dir,
                           const pace& how,
                           const std::function<void()>& while_ingesting = {});

/// Reports `ing`'s CPU by thread as microseconds per event, one key per
/// thread name after `prefix` (other characters than letters and digits
/// become '_').
void report_cpu_by_thread(const std::string& prefix, const ingest_result& ing,
                          json_out& js);

/// Waits (at most an hour) until `store` compacts no more and reports how
/// long that took as `key`.
void settle_compactions(storage::rocks_store& store, json_out& js,
                        const char* key);

/// Reports the ingest, the store's size on disk and the memory it took;
/// returns the ingest rate in events per second.
double report_ingest(const ingest_result& ing, const gen_stats& gs,
                     const dir_size& disk, long rss_ingest, json_out& js);

} // namespace kws::bench
