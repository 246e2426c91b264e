// The transport of a reflector as an interface, as client-go's ListerWatcher:
// list one page, open a watch stream that yields parsed watch events, get
// one object. `client_lister_watcher` implements it over the kube client;
// tests script a fake. Nothing here decides what to do next: that is the
// reflector machine's job.
#pragma once

#include "kube/client.hpp"
#include "messages/watch.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kws::kube {

/// One list page to fetch.
struct list_request {
  /// "" (a consistent read), "0" (any, from the watch cache) or a version.
  std::string resource_version;
  /// `limit`; 0 asks for everything in one answer.
  uint32_t limit = 0;
  /// `continue` of the previous page ("" for the first page).
  std::string continue_token;
};

/// A watch to open.
struct watch_request {
  std::string resource_version;
  bool bookmarks = true;
  /// `timeoutSeconds` asked of the apiserver.
  std::chrono::seconds timeout{300};
  /// The stream is closed when no byte arrives for this long...
  std::chrono::seconds idle_timeout{180};
  /// ... and at `timeout` plus this grace.
  std::chrono::seconds grace{30};
};

/// How a read of a watch stream left the stream.
enum class stream_state : uint8_t {
  /// More may be read.
  open,
  /// The apiserver ended the stream cleanly (its timeout, or a shutdown).
  closed,
  /// The connection broke (`error` says how, the idle deadline included).
  broken,
  /// A line stopped the stream: an ERROR event (`error` is `gone`,
  /// `too_many_requests` or `unexpected_status`) or a malformed line
  /// (`parse_error`). Nothing after that line is delivered.
  stopped,
};

/// What one read of a watch stream yields: the events of its whole lines,
/// in stream order, and whether the stream goes on.
struct watch_chunk {
  std::vector<watch_event> events;
  /// Wall clock (ns since the epoch) when the bytes were read.
  int64_t received_ns = 0;
  stream_state state = stream_state::open;
  caf::error error;
};

/// An open watch stream. Pull-based: a reader that stops reading stops the
/// socket reads once the bounded read-ahead is full, which is the
/// back-pressure path to the apiserver.
class watch_stream {
public:
  virtual ~watch_stream();

  /// Yields the events read since the last read, waiting for at least one
  /// whole line or the end; at most one read may be pending. A stream may
  /// read ahead of its reader, by a bounded amount. `done` may run on any
  /// thread, the caller's included.
  virtual void read(std::function<void(watch_chunk)> done) = 0;

  /// Closes the stream; a pending read completes or is dropped. Idempotent
  /// and callable from any thread.
  virtual void close() = 0;
};

/// The answer to opening a watch: the response head and, for status 200,
/// the stream to read.
struct watch_opening {
  /// The answer's status and headers; its body is the stream's when 200.
  response head;
  /// Set exactly when `head.status` is 200.
  std::shared_ptr<watch_stream> stream;
};

/// The transport of one resource type's reflector. Callbacks may run on any
/// thread; errors are transport failures only, every HTTP status is an
/// answer.
class lister_watcher {
public:
  virtual ~lister_watcher();

  virtual void list(list_request req,
                    std::function<void(caf::expected<response>)> done)
    = 0;

  virtual void watch(watch_request req,
                     std::function<void(caf::expected<watch_opening>)> done)
    = 0;

  /// GET of one object by its path (a deleted object under a selector).
  virtual void get(std::string path,
                   std::function<void(caf::expected<response>)> done)
    = 0;

  /// The collection and server it reads, for error messages.
  virtual std::string describe() const = 0;
};

} // namespace kws::kube
