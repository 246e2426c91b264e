// client-go's reflector for one resource type: list, then watch from the
// list's resourceVersion, relist on 410, back off on errors.
#pragma once

#include "kube/backoff.hpp"
#include "kube/selector.hpp"
#include "messages/errors.hpp"
#include "messages/resource_type.hpp"
#include "messages/watch.hpp"

#include <caf/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace kws::kube {

class client;
class body_stream;
class scheduled_call;
struct response;
struct stream_result;

/// Tuning of a reflector; the defaults are client-go's.
struct reflector_options {
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
  /// Seed of the jitter and timeout RNG; 0 draws one from the system.
  uint64_t seed = 0;
  /// The stream is read on while fewer watch events, and fewer bytes of
  /// their objects, than these are delivered and not yet acknowledged: a
  /// consumer busy with one batch finds the next one waiting, and memory
  /// stays bounded when it falls behind.
  uint64_t max_unacked_events = 10'000;
  uint64_t max_unacked_bytes = uint64_t{16} << 20;
  /// The namespace path and selectors lists and watches ask for.
  selection filter;
};

/// What a reflector delivers. Every callback runs on the client's io
/// thread and must not block; hand the data to the consumer and return.
struct reflector_callbacks {
  /// A complete (paged) list: replace semantics. Called for the initial
  /// list and every relist. Items are complete JSON objects.
  std::function<void(kws::list_result)> on_list;
  /// A batch of watch events in stream order (bookmarks included so the
  /// caller can persist their RV), with the wall-clock time (ns since the
  /// epoch) its bytes were read, from which the consumer measures its lag.
  std::function<void(std::vector<kws::watch_event>, int64_t received_ns)>
    on_events;
  /// Something went wrong and the reflector retries after a backoff:
  /// connect failures, 401/403, 404, 5xx, 410 (`ec::gone`, followed by a
  /// relist), malformed lines (counted, then a relist). Needs no `ack`.
  std::function<void(caf::error)> on_error;
};

/// Counters of a reflector (thread-safe reads).
struct reflector_stats {
  std::atomic<uint64_t> lists{0};
  std::atomic<uint64_t> watches{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> malformed_lines{0};
  /// Watches the apiserver ended before their `timeoutSeconds`.
  std::atomic<uint64_t> early_ends{0};
};

/// client-go's reflector over one resource type.
///
/// List (paged with limit/continue at RV "0" or ""; after a 410 on a
/// continue page one unpaginated list) → watch from the list RV with
/// bookmarks, `timeoutSeconds` random in [min, 2 * min), an idle deadline
/// and TCP keepalive → a clean end re-watches at once from the last RV;
/// a 410 (at start or as an in-stream ERROR) relists at the last RV, and a
/// 410 or too-large RV on that list relists at RV "" (a consistent read);
/// connect failures and 429 re-watch after a backoff (429: Retry-After);
/// other errors back off and relist. A watch that ends within 1 s without
/// events counts as an error (no hot loops).
///
/// Flow control: every `on_list` and `on_events` is one delivery, confirmed
/// by one `ack()`. After a list nothing more is delivered until it is
/// acknowledged (its records come before any watch event). Watch events keep
/// being read while the unacknowledged deliveries stay under
/// `max_unacked_events` and `max_unacked_bytes`; past that the socket is
/// not read until acknowledgements come. That is the back-pressure path: a
/// consumer that stores one batch while the next events arrive receives
/// them all in the meantime, never one read per acknowledgement.
class reflector : public std::enable_shared_from_this<reflector> {
public:
  static std::shared_ptr<reflector> make(std::shared_ptr<client> c,
                                         resource_type type,
                                         reflector_options opts,
                                         reflector_callbacks callbacks);

  ~reflector();

  /// Starts the reflector. `resume_rv` "" lists first; otherwise it watches
  /// from `resume_rv` (after a restart) and relists if that is 410 Gone.
  /// Call once.
  void start(std::string resume_rv);

  /// Confirms the oldest `deliveries` unconfirmed `on_list` or `on_events`
  /// calls: the reflector continues if they held it back.
  void ack(size_t deliveries = 1);

  /// Stops the reflector and closes its connection. Idempotent and
  /// callable from any thread, including from inside a callback. No
  /// callback runs after `stop` returns (a callback running concurrently on
  /// the io thread is waited for), and the callbacks are released, so they
  /// may own the reflector.
  void stop();

  const resource_type& type() const { return type_; }

  const reflector_stats& stats() const { return stats_; }

  /// Query string of a watch request (without '?'), exposed for tests.
  static std::string watch_query(const std::string& rv, bool bookmarks,
                                 std::chrono::seconds timeout);

  /// Query string of a list page (without '?'), exposed for tests: `rv` is
  /// sent only on the first page (no `continue`), `limit` when `page_size`
  /// is non-zero.
  static std::string list_query(const std::string& rv, uint32_t page_size,
                                const std::string& continue_token);

private:
  /// What to do after a failed watch or list.
  enum class next_step { relist, rewatch };

  reflector(std::shared_ptr<client> c, resource_type type,
            reflector_options opts, reflector_callbacks callbacks);

  // All of the following run on the io thread.
  void do_list();
  void request_page(std::string rv, bool paginate, std::string continue_token,
                    std::shared_ptr<kws::list_result> acc, uint64_t gen);
  void on_page(std::string rv, bool paginate, const std::string& continue_token,
               std::shared_ptr<kws::list_result> acc, uint64_t gen,
               response res);
  void do_watch();
  void on_stream(uint64_t gen, stream_result res);
  void read_stream(uint64_t gen);
  void on_data(uint64_t gen, std::string_view data, bool at_end,
               caf::error end_error);
  void on_stream_end(const caf::error& err);
  void fail(const caf::error& err, next_step step,
            std::chrono::milliseconds delay = std::chrono::milliseconds{-1});
  void schedule(std::chrono::milliseconds delay, next_step step);
  void deliver_list(kws::list_result result);
  /// True while deliveries may continue without an acknowledgement.
  bool window_open() const;
  void deliver_events(std::vector<kws::watch_event> events, int64_t received_ns,
                      std::function<void()> then);
  void report(const caf::error& err);
  std::chrono::milliseconds next_backoff();
  void close_stream();

  std::shared_ptr<client> client_;
  resource_type type_;
  reflector_options opts_;
  reflector_callbacks callbacks_;
  reflector_stats stats_;

  // Guards callbacks against a concurrent stop().
  std::recursive_mutex callback_mtx_;
  bool stopped_ = false;

  // io-thread state.
  /// Incremented on every phase change; stale completions compare it.
  uint64_t gen_ = 0;
  bool started_ = false;
  std::string last_sync_rv_;
  /// A list said the RV is too old or too new: list at RV "" next time.
  bool rv_unavailable_ = false;
  backoff backoff_;
  std::mt19937_64 rng_;
  std::shared_ptr<body_stream> stream_;
  std::shared_ptr<scheduled_call> timer_;
  std::chrono::steady_clock::time_point watch_started_;
  std::chrono::seconds watch_timeout_{0};
  uint64_t stream_events_ = 0;
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
  /// Set while the window is closed: what to do once it opens.
  std::function<void()> after_ack_;
  struct stream_state;
  std::shared_ptr<stream_state> state_;
};

} // namespace kws::kube
