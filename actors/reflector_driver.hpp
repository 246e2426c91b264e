// Runs a reflector machine inside an actor: executes its commands over a
// lister_watcher, turns the transport's callbacks and the machine's waits
// into `(internal, reflector_input)` messages to the actor, and reads the
// actor's clock for `now`. The WATCHER and DISCOVERY's CRD watch use it; so
// does any actor under test, with virtual time and a scripted transport.
#pragma once

#include "actors/reflector_input.hpp"
#include "kube/lister_watcher.hpp"
#include "kube/reflector_machine.hpp"
#include "messages/resource_type.hpp"
#include "messages/watch.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kws {

/// What the driver hands its actor; each runs in the actor, synchronously.
struct reflector_handlers {
  /// A complete list (replace semantics); confirm with `ack`.
  std::function<void(list_result)> on_list;
  /// Watch events read at `received_ns` (wall clock); confirm with `ack`.
  std::function<void(std::vector<watch_event>, int64_t received_ns)> on_events;
  /// Something failed; the reflector retries on its own. Needs no `ack`.
  std::function<void(const caf::error&)> on_error;
};

class reflector_driver {
public:
  /// `self` is the owning actor, which must pass every
  /// `(atom::internal, reflector_input)` it receives to `handle`. A zero
  /// `settings.seed` is replaced by a random one.
  reflector_driver(caf::local_actor* self,
                   std::shared_ptr<kube::lister_watcher> source,
                   resource_type type, kube::reflector_settings settings,
                   reflector_handlers handlers);

  /// Stops the machine and closes the stream.
  ~reflector_driver();

  reflector_driver(const reflector_driver&) = delete;
  reflector_driver& operator=(const reflector_driver&) = delete;

  /// "" lists first; otherwise watches from `resume_rv`.
  void start(std::string resume_rv);

  /// Confirms the oldest `deliveries` lists or event batches.
  void ack(size_t deliveries = 1);

  void handle(reflector_input& input);

  /// Stops for good; nothing is delivered afterwards.
  void stop();

  const kube::reflector_counts& counts() const { return machine_.counts(); }

private:
  void run(kube::reflector_commands commands);
  void execute(kube::reflector_command& command);
  kube::reflector_machine::time_point now() const;

  caf::local_actor* self_;
  std::shared_ptr<kube::lister_watcher> source_;
  resource_type type_;
  kube::reflector_machine machine_;
  reflector_handlers handlers_;
  std::shared_ptr<kube::watch_stream> stream_;
  /// Commands not yet executed: a handler may `ack` while its delivery
  /// runs, and what that returns waits behind the rest of this input's.
  std::deque<kube::reflector_command> queue_;
  bool running_ = false;
};

} // namespace kws
