// Generated watch streams replayed from files as the transport of the
// service's real WATCHERs. One io thread serves every stream's body reads
// in 16 KiB pieces, as the kube client's io thread serves its sockets; the
// service's own watch stream splits and scans them there and reads ahead of
// its WATCHER by the same bounded amount. Only the socket, TLS and HTTP
// chunking are left out.
#pragma once

#include "kube/lister_watcher.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kws::bench {

/// A stretch of one stream file and the generated time it was written at.
struct stream_slice {
  size_t stream = 0;
  size_t bytes = 0;
  int64_t now_ns = 0;
  /// Watch events in the slice (for a paced replay).
  size_t events = 0;
};

class replay_body;

/// The io thread and the streams it serves. The streams are read in the
/// order they were generated in, so that the generated clock moves forward
/// as the apiserver's would: a stream whose turn has not come waits, like a
/// quiet watch.
class replay_io {
public:
  /// `schedule` lists every slice of every stream in generated order;
  /// `fake_now` is set to each slice's time as its reading starts. With
  /// `events_per_s` > 0 a slice is not read before its events are due at
  /// that rate (counted from `start`), as an apiserver paced by its
  /// cluster's churn; 0 reads as fast as the WATCHERs take them.
  replay_io(std::atomic<int64_t>& fake_now, std::vector<stream_slice> schedule,
            double events_per_s = 0);

  /// Stops the io thread; pending reads are dropped.
  ~replay_io();

  replay_io(const replay_io&) = delete;
  replay_io& operator=(const replay_io&) = delete;

  /// The transport of stream `stream` (read from `file`), for a WATCHER
  /// that resumes from a checkpoint: its list is empty, its one watch never
  /// ends (once its slices are read, reads wait).
  std::shared_ptr<kube::lister_watcher>
  source(size_t stream, const std::filesystem::path& file, std::string name);

  /// Starts serving reads; every stream of the schedule has its source.
  void start();

  /// Blocks until every slice has been read.
  void wait_until_read();

  /// CPU seconds of the io thread (reading, splitting, scanning).
  double io_cpu_seconds() const;

private:
  friend class replay_body;

  void run();
  /// With `mtx_` held: a body with a read to serve now, or null.
  replay_body* next_ready();

  std::atomic<int64_t>& fake_now_;
  std::vector<stream_slice> schedule_;
  mutable std::mutex mtx_;
  std::condition_variable wake_;
  std::condition_variable read_all_;
  std::vector<std::shared_ptr<replay_body>> bodies_;
  size_t cursor_ = 0;
  size_t offset_ = 0;
  double events_per_s_ = 0;
  std::chrono::steady_clock::time_point started_;
  /// Events of the slices whose reading has begun.
  uint64_t events_begun_ = 0;
  bool stopping_ = false;
  /// Written by the io thread only; read once it has read everything.
  double io_cpu_s_ = 0;
  std::thread thread_;
};

} // namespace kws::bench
