// The HTTPS client for one apiserver: a keep-alive pool for short requests
// and one dedicated connection per streaming (watch) request. Boost.Beast
// stays inside the client*.cpp files and kube/client_impl.hpp.
#pragma once

#include "kube/kubeconfig.hpp"
#include "util/errors.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws::kube {

/// Tuning of a client.
struct client_options {
  /// The User-Agent header.
  std::string user_agent = "k8s-watch-server/" KWS_VERSION;
  /// Limit for resolving, connecting and the TLS handshake.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
  /// Limit for one read or write of a pooled request (an idle timeout, so
  /// large lists that keep flowing never time out).
  std::chrono::milliseconds request_idle_timeout{std::chrono::seconds{60}};
  /// Short requests running at once; more wait in a queue (APF advice: do
  /// not open hundreds of lists at once).
  size_t max_concurrent_requests = 8;
  /// Idle keep-alive connections kept open.
  size_t max_idle_connections = 8;
  /// Limit of a non-streaming response body; 0 = none.
  uint64_t max_body_bytes = 0;
  /// How long `stop()` waits for the io thread before abandoning it.
  std::chrono::milliseconds stop_timeout{std::chrono::seconds{5}};
};

/// A request for `client::send`.
struct request_options {
  std::string method = "GET";
  /// Path and query, e.g. "/api/v1/pods?limit=500".
  std::string target;
  std::string body;
  /// Content-Type of `body` ("" = application/json when a body is given).
  std::string content_type;
  std::string accept = "application/json";
};

/// An HTTP response of the apiserver, whatever its status.
struct response {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  /// `Retry-After` in seconds, if sent.
  std::optional<std::chrono::seconds> retry_after;
};

/// Turns a non-2xx response into an error with a kws code (401/403
/// `unauthorized`, 404 `not_found`, 410 `gone`, 429 `too_many_requests`,
/// else `unexpected_status`) and a context naming method, server and path
/// plus the apiserver's message.
caf::error status_error(const response& resp, std::string_view method,
                        std::string_view server, std::string_view target);

/// The body of a streaming response, read piece by piece on its own
/// connection. Reading is pull-based: nothing is read from the socket
/// between pieces, which is the back-pressure path to the apiserver.
class body_stream {
public:
  virtual ~body_stream();

  /// Reads the next bytes of the (de-chunked) body. `done` receives the
  /// bytes (valid during the call only) or an empty view at the end of the
  /// body, or an error (`transport_error`, including the idle timeout). At
  /// most one read may be pending.
  virtual void read(std::function<void(caf::expected<std::string_view>)> done)
    = 0;

  /// Closes the connection; a pending read completes with an error.
  /// Idempotent and callable from any thread.
  virtual void close() = 0;
};

/// A request for `client::open_stream`.
struct stream_options {
  /// Path and query of a GET.
  std::string target;
  std::string accept = "application/json";
  /// Close the stream when no byte arrives for this long.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes{3}};
  /// Close the stream at this age (0 = never); a watch uses its
  /// `timeoutSeconds` plus grace.
  std::chrono::milliseconds max_age{0};
};

/// The outcome of opening a stream: the response head and, for a 2xx
/// status, the body to read. For other statuses `head.body` holds the
/// (bounded) error body and `body` is null.
struct stream_result {
  response head;
  std::shared_ptr<body_stream> body;
};

/// A cancellable scheduled call, see `client::schedule`.
class scheduled_call {
public:
  virtual ~scheduled_call();
  /// Cancels the call if it has not run yet. Callable from any thread.
  virtual void cancel() = 0;
};

/// HTTPS client of one apiserver. Owns one io_context with one thread;
/// every method is thread-safe and every callback runs on that io thread.
/// Authentication follows the configuration: client certificates, a static
/// token, a token file (re-read every minute and after a 401) or an exec
/// plugin (cached until its expiry, re-run after a 401). A 401 on a short
/// request is retried once with refreshed credentials.
class client : public std::enable_shared_from_this<client> {
public:
  /// Builds the TLS context (CA, client certificate) and starts the io
  /// thread. Fails on unusable PEM data or an unsupported server URL.
  static caf::expected<std::shared_ptr<client>> make(cluster_config cfg,
                                                     client_options opts = {});

  ~client();

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Async GET over the keep-alive pool, e.g. for discovery and list pages.
  /// Non-2xx statuses become errors (see `status_error`).
  void get(std::string path_and_query,
           std::function<void(caf::expected<std::string> body)> done);

  /// Async request with a JSON body ("" for none), e.g. POST, PUT, PATCH
  /// (merge patch) or DELETE. Non-2xx statuses become errors.
  void request(std::string method, std::string path_and_query, std::string body,
               std::function<void(caf::expected<std::string> body)> done);

  /// Async request that delivers any HTTP status as a `response`; errors
  /// are transport failures only.
  void send(request_options req,
            std::function<void(caf::expected<response>)> done);

  /// Opens a streaming GET on a dedicated connection (one per watch).
  void open_stream(stream_options opts,
                   std::function<void(caf::expected<stream_result>)> done);

  /// Runs `f` on the io thread after `delay`, unless cancelled or stopped.
  std::shared_ptr<scheduled_call> schedule(std::chrono::milliseconds delay,
                                           std::function<void()> f);

  /// Runs `f` on the io thread, unless the client stops first.
  void post(std::function<void()> f);

  /// Runs `f` on the io thread, also when `stop` is called before it gets
  /// there (then before the io thread ends): for clean-up that must not be
  /// skipped, such as closing streams whose callbacks own their owner.
  /// Dropped only when the client had stopped already.
  void post_cleanup(std::function<void()> f);

  /// True when called on this client's io thread.
  bool on_io_thread() const;

  /// Closes every connection, drops queued work and joins the io thread
  /// (waiting at most `client_options::stop_timeout`). Pending callbacks do
  /// not run afterwards; requests made after `stop` fail at once with
  /// `ec::unavailable`, in the caller's thread. Idempotent.
  void stop();

  /// The configuration this client was made from.
  const cluster_config& config() const;

  /// "host:port" of the apiserver, for messages.
  const std::string& authority() const;

  struct impl;

private:
  client() = default;
  std::shared_ptr<impl> impl_;
};

} // namespace kws::kube
