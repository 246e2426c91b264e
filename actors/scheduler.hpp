// How the actor system's worker threads wait for work.
#pragma once

#include <caf/fwd.hpp>

namespace kws {

/// Lets an idle worker thread sleep on its queue's condition variable right
/// after a short spin, instead of CAF's default of another 500 polls 50 µs
/// apart. Under a steady stream of messages those polls woke each worker
/// 20,000 times a second: a fifth of the CPU per ingested event on two
/// cores (README.md, Benchmarks). A message sent from outside the workers
/// (HTTP threads, the storage actor's own thread) wakes the sleeper at once;
/// a message a worker queued for itself is stolen by an idle one after at
/// most `work-stealing.relaxed-sleep-duration` (10 ms).
void tune_scheduler(caf::actor_system_config& cfg);

} // namespace kws
