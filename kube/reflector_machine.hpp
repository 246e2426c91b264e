// client-go's reflector for one resource type as a pure state machine: no
// threads, no clock, no mutex, no callbacks. Every input carries `now` and
// returns the commands to execute, so each rule is a table test
// (tests/unit/kube/reflector_machine_test.cpp); the WATCHER (and DISCOVERY's
// CRD watch) execute them through `reflector_driver`.
//
// Rules: list (paged with limit/continue at RV "0" or ""; after a 410 on a
// continue page one unpaginated list) → watch from the list RV with
// bookmarks and `timeoutSeconds` random in [min, 2 * min) → a clean end
// re-watches at once from the last RV; a 410 (at start or as an in-stream
// ERROR) relists at the last RV, and a 410 or too-large RV on that list
// relists at RV "" (a consistent read); connect failures and 429 re-watch
// after a backoff (429: Retry-After); other errors back off and relist. A
// watch that ends within 1 s without events counts as an error (no hot
// loops).
//
// Flow control: every delivered list or batch of events is confirmed by one
// `ack`. Nothing follows a list until it is acknowledged (its records come
// before any watch event). The stream is read on while the unacknowledged
// deliveries stay under `max_unacked_events` and `max_unacked_bytes`: a
// consumer storing one batch finds the next one waiting.
#pragma once

#include "kube/backoff.hpp"
#include "kube/lister_watcher.hpp"
#include "messages/resource_type.hpp"
#include "messages/watch.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace kws::kube {

/// Tuning of a reflector; the defaults are client-go's.
struct reflector_settings {
  /// Backoff after errors: initial delay, cap of the base delay, and the
  /// healthy stretch after which it starts over.
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::seconds backoff_reset{120};
  /// `limit` of list pages (used for lists at resourceVersion "" or "0").
  uint32_t page_size = 500;
  /// Watches ask for `timeoutSeconds` uniform in [min, 2 * min).
  std::chrono::seconds min_watch_timeout{300};
  bool allow_watch_bookmarks = true;
  /// A watch that receives no byte for this long is considered dead.
  std::chrono::seconds idle_timeout{180};
  /// A watch is closed at `timeoutSeconds` plus this grace.
  std::chrono::seconds watch_grace{30};
  /// Seed of the jitter and timeout RNG; `reflector_driver` draws a random
  /// one for 0.
  uint64_t seed = 0;
  /// Bounds of what is delivered and not yet acknowledged. 4 MiB of objects
  /// keep STORAGE's batches large and cut the memory a busy type holds: 16
  /// MiB gave no more events/s (README, "Acknowledgement window").
  uint64_t max_unacked_events = 10'000;
  uint64_t max_unacked_bytes = uint64_t{4} << 20;
};

/// What the machine asks its driver to do. Commands of one input run in
/// order. `gen` stamps requests: their answers come back with it, and
/// answers of an abandoned phase are ignored.
namespace command {

/// Fetch one list page.
struct list_page {
  uint64_t gen = 0;
  list_request request;
};

/// Open a watch stream (any open one was closed before).
struct open_watch {
  uint64_t gen = 0;
  watch_request request;
};

/// Read the open stream on.
struct read_more {
  uint64_t gen = 0;
};

/// Close the open stream, if any.
struct close_watch {};

/// Come back with `timer(gen)` after `delay`.
struct wait {
  uint64_t gen = 0;
  std::chrono::milliseconds delay{0};
};

/// A complete (paged) list: replace semantics.
struct deliver_list {
  list_result list;
};

/// Watch events in stream order (bookmarks included), read at
/// `received_ns` (wall clock).
struct deliver_events {
  std::vector<watch_event> events;
  int64_t received_ns = 0;
};

/// Something failed; the machine retries on its own.
struct report {
  caf::error error;
};

/// The apiserver ended a watch well before the timeout it asked for (as it
/// does for a client that reads too slowly, and on shutdown).
struct ended_early {
  std::chrono::seconds lived{0};
  std::chrono::seconds timeout{0};
  std::string resource_version;
  caf::error error;
};

} // namespace command

using reflector_command
  = std::variant<command::list_page, command::open_watch, command::read_more,
                 command::close_watch, command::wait, command::deliver_list,
                 command::deliver_events, command::report,
                 command::ended_early>;

using reflector_commands = std::vector<reflector_command>;

/// Counters of a reflector.
struct reflector_counts {
  uint64_t lists = 0;
  uint64_t watches = 0;
  uint64_t events = 0;
  uint64_t errors = 0;
  uint64_t early_ends = 0;
};

class reflector_machine {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// `where` names the collection in error messages ("host:port/path").
  reflector_machine(resource_type type, std::string where,
                    reflector_settings settings);

  /// `resume_rv` "" lists first; otherwise watches from it (after a
  /// restart) and relists if that is 410 Gone. Call once.
  reflector_commands start(time_point now, std::string resume_rv);

  /// The answer to `list_page` of `gen`.
  reflector_commands page(time_point now, uint64_t gen,
                          caf::expected<response> answer);

  /// The answer to `open_watch` of `gen`: the head, or a transport error.
  reflector_commands opened(time_point now, uint64_t gen,
                            caf::expected<response> head);

  /// What a `read_more` of `gen` read.
  reflector_commands chunk(time_point now, uint64_t gen, watch_chunk chunk);

  /// A `wait` of `gen` is over.
  reflector_commands timer(time_point now, uint64_t gen);

  /// Confirms the oldest `deliveries` unconfirmed deliveries.
  reflector_commands ack(time_point now, size_t deliveries = 1);

  /// Stops for good: closes the stream, ignores every input after.
  reflector_commands stop();

  /// The generation answers must carry to count.
  uint64_t generation() const { return gen_; }

  /// The resourceVersion a watch resumes from.
  const std::string& resource_version() const { return last_sync_rv_; }

  const reflector_counts& counts() const { return counts_; }

  bool stopped() const { return stopped_; }

private:
  enum class next_step : uint8_t { relist, rewatch };
  /// What waits for the window to open.
  enum class held : uint8_t { nothing, watch, read };

  void do_list(reflector_commands& out);
  void request_page(reflector_commands& out, std::string continue_token);
  void do_watch(time_point now, reflector_commands& out);
  void deliver_list(reflector_commands& out);
  void deliver_events(std::vector<watch_event> events, int64_t received_ns,
                      reflector_commands& out);
  void stream_end(time_point now, caf::error err, reflector_commands& out);
  void fail(time_point now, caf::error err, next_step step,
            reflector_commands& out,
            std::chrono::milliseconds delay = std::chrono::milliseconds{-1});
  void report(caf::error err, reflector_commands& out);
  std::chrono::milliseconds next_backoff(time_point now);
  /// A 429's wait: its Retry-After, else the next backoff.
  std::chrono::milliseconds retry_delay(time_point now, const response& res);
  bool window_open() const;

  resource_type type_;
  std::string where_;
  reflector_settings settings_;
  backoff backoff_;
  std::mt19937_64 rng_;
  reflector_counts counts_;

  uint64_t gen_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  std::string last_sync_rv_;
  /// A list said the RV is too old or too new: list at RV "" next time.
  bool rv_unavailable_ = false;

  /// The list being fetched: its RV, whether it is paged, the pages so far.
  std::string list_rv_;
  bool paginate_ = false;
  /// The page asked for is a continue page.
  bool continuing_ = false;
  list_result listed_;

  /// The watch being read.
  time_point watch_started_{};
  std::chrono::seconds watch_timeout_{0};
  uint64_t stream_events_ = 0;
  next_step after_wait_ = next_step::relist;

  /// Deliveries not yet acknowledged, oldest first.
  struct delivery {
    uint64_t events = 0;
    uint64_t bytes = 0;
    bool list = false;
  };
  std::deque<delivery> unacked_;
  uint64_t unacked_events_ = 0;
  uint64_t unacked_bytes_ = 0;
  size_t unacked_lists_ = 0;
  held held_ = held::nothing;
};

} // namespace kws::kube
