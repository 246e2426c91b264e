// The HTTP server of the REST API: a Beast listener accepting connections and
// one session per connection. It knows no actors: each parsed request goes to
// a handler function together with a responder that writes the answer.
#pragma once

#include "messages/http.hpp"
#include "rest/access_log.hpp"
#include "rest/answer_budget.hpp"
#include "rest/connection_book.hpp"
#include "rest/proxy_identity.hpp"
#include "rest/static_site.hpp"
#include "rest/tls_source.hpp"

#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kws::rest {

/// Which paths a listener serves.
enum class listener_paths : uint8_t {
  /// Everything (tests, and a server without an admin listener).
  all,
  /// Everything but `admin_prefix`, which is 404: the API's port.
  api,
  /// Only `admin_prefix`; anything else is 404: the loopback admin port.
  admin,
  /// Only the probes the server answers itself; anything else is 404.
  probes,
};

/// Limits and addresses of the server.
struct server_options {
  std::string address = "0.0.0.0";
  /// 0 picks a free port; `server::port()` tells which.
  uint16_t port = 8080;
  /// Larger request heads are answered with 431.
  size_t max_header_bytes = 16 * size_t{1024};
  /// Larger request bodies are answered with 413.
  size_t max_body_bytes = 16 * size_t{1024};
  /// An idle connection (before a request's first byte, also between
  /// requests kept alive) closes after this time; writing an answer closes
  /// it when the client takes none of its bytes for this long.
  std::chrono::milliseconds read_timeout{30'000};
  /// Once a request's first byte arrived, its head and body must arrive
  /// within this time (a client sending a byte now and then holds nothing).
  std::chrono::milliseconds head_timeout{10'000};
  /// A handler must answer within this time, else the client gets 504.
  std::chrono::milliseconds handler_timeout{30'000};
  /// Connections served in full; beyond, only probes are (`probe_reserve`).
  size_t max_connections = 512;
  /// Connections served in full from one client address.
  size_t max_connections_per_client = 64;
  /// Connections beyond the limits above that may still ask for `/health`,
  /// `/livez` or `/readyz` (4 per client address); the rest get 503. When
  /// a new connection would be served probes only or refused because all
  /// places are taken (not because its own address holds its share), an
  /// idle connection (waiting for a request's first byte) of the address
  /// holding the most is closed to make room, the one idle longest first.
  size_t probe_reserve = 32;
  /// Answers held at once, and their bytes until their clients read them;
  /// a request beyond waits in arrival order (within `handler_timeout`).
  answer_limits answers = {};
  /// Serve TLS with the newest certificate of this source; null: plain
  /// HTTP.
  std::shared_ptr<tls_source> tls;
  /// `auth.mode: proxy`: the request headers that name the caller are
  /// believed from connections whose client certificate `tls`'s client CA
  /// verified for one of these names (`http_request::proxied`). Empty: no
  /// header names anyone.
  std::optional<proxy_trust> proxy;
  /// With `tls`: plain HTTP from loopback clients is served too (commands
  /// run inside the pod, `kubectl port-forward`); anyone else is told to
  /// use https (400).
  bool tls_plain_loopback = true;
  /// Threads running the server's io_context.
  int threads = 1;
  /// Paths under this prefix also accept POST, from loopback clients only
  /// (operator commands such as a backup, run inside the pod).
  std::string admin_prefix = "/admin/";
  /// Whether this listener serves the API, the admin paths, or both.
  listener_paths paths = listener_paths::all;
  /// The MCP endpoint: POST only (a JSON-RPC message in the body), from any
  /// client; other methods get 405. Empty: no such endpoint.
  std::string mcp_path = "/mcp";
  /// Larger bodies of POSTs to `mcp_path` are answered with 413.
  size_t mcp_body_bytes = size_t{1} << 20U;
  /// The timeline page the server answers by itself at `/` and `/ui/`.
  /// Empty: those paths are unknown (404) like any other.
  static_site site = {};
  /// Answers `/readyz` on the io thread, so that the probe never waits
  /// behind the pages the handler builds: called once per probe, on any io
  /// thread, so it must be thread-safe and must not block. Empty: `/readyz`
  /// goes to the handler like any request. (`/health`, `/healthz` and
  /// `/livez` never do: the server answers them itself.)
  std::function<http_response()> readiness;
  /// Called once per response the access log keeps (`should_log`), also for
  /// the answers the server gives by itself, once the response is written,
  /// on an io thread: it must not block. Empty: no access log.
  std::function<void(const access_entry&)> on_access;
};

/// Receives every well-formed GET or HEAD request but the probes the server
/// answers itself (see `server_options::readiness`), POSTs to admin paths
/// from loopback and POSTs to the MCP endpoint. Must not block; must make sure
/// `deliver` is called once, from any thread.
using request_handler = std::function<void(http_request, responder_ptr)>;

/// A running HTTP server. Stops and joins its threads on destruction. A
/// responder still held elsewhere refers to its connection and so to the
/// server: the server is destroyed only after every responder is gone
/// (stopped, it lets them be delivered into nothing or dropped).
class server {
public:
  /// Binds, listens and starts serving; fails when the address is taken.
  static caf::expected<std::unique_ptr<server>> start(server_options opts,
                                                      request_handler handler);

  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The bound port (useful with port 0).
  uint16_t port() const;

  /// Stops accepting, closes all connections, joins the threads.
  void stop();

  /// The connections open now and those evicted so far.
  connection_counts connections() const;

  /// Requests waiting for room in the answers held (`server_options::answers`).
  size_t requests_waiting() const;

  struct impl;

private:
  explicit server(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

/// A response with status `status` and the contract's JSON error body.
http_response error_response(uint16_t status, std::string_view message,
                             std::string_view parameter = {});

} // namespace kws::rest
