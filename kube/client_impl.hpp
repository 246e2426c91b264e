// The state a client shares between its pieces (connecting, credentials,
// short requests, streams, the io thread), kept out of kube/client.hpp so
// Boost.Beast stays inside kube/client*.cpp. Internal to kws_kube.
//
// One io thread runs everything; the impl is touched only on that thread,
// except the `stopped` flag and the registry of closable objects (mutex).
#pragma once

#include "kube/client.hpp"
#include "kube/credentials.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

namespace kws::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using clock_type = std::chrono::steady_clock;

/// The pieces of the server URL.
struct server_url {
  std::string host; // without brackets
  std::string port;
  std::string base_path; // "" or "/prefix" without a trailing slash
};

caf::expected<server_url> parse_server(const std::string& server,
                                       const std::string& source);

bool is_ip_address(const std::string& host);

caf::expected<std::shared_ptr<ssl::context>>
make_ssl_context(const cluster_config& cfg, const std::string& cert_pem,
                 const std::string& key_pem);

std::optional<std::chrono::seconds> parse_retry_after(std::string_view x);

/// An io_context whose queued handlers can be destroyed without running
/// them (what its destructor does) once no thread runs it any more.
struct io_context : asio::io_context {
  using asio::execution_context::shutdown;
  using asio::io_context::io_context;
};

/// Something `close_all` must close when the client stops.
struct closable {
  virtual ~closable() = default;
  /// Runs on the io thread.
  virtual void close_now() = 0;
};

struct connection;

struct client::impl : std::enable_shared_from_this<client::impl> {
  ~impl();

  cluster_config cfg;
  client_options opts;
  server_url url;
  std::string authority;
  /// Name for SNI and verification.
  std::string verify_name;
  bool verify_is_ip = false;

  io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    work;
  std::thread thread;
  std::thread::id thread_id;
  std::future<void> thread_done;
  std::atomic<bool> stopped{false};

  std::shared_ptr<ssl::context> ssl_ctx;
  std::string ssl_cert_pem; // the client certificate ssl_ctx was built with

  // Keep-alive pool and request slots.
  std::vector<std::shared_ptr<connection>> idle;
  size_t active = 0;
  std::deque<std::function<void()>> waiting;

  // Credentials.
  std::string file_token;
  clock_type::time_point file_token_read{};
  std::optional<exec_credential> exec_cred;
  bool exec_running = false;
  std::vector<std::function<void(caf::expected<std::string>)>> exec_waiters;

  // Warning headers already logged.
  std::set<std::string> warnings_seen;

  // Everything that close_all closes; keyed by a serial number.
  std::mutex registry_mtx;
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, std::weak_ptr<closable>> registry;

  uint64_t enroll(const std::shared_ptr<closable>& x);

  void withdraw(uint64_t id);

  void close_all();

  bool on_io_thread() const { return std::this_thread::get_id() == thread_id; }

  template <class F>
  void dispatch(F&& f) {
    asio::dispatch(ioc, std::forward<F>(f));
  }

  // -- slots ------------------------------------------------------------------

  void acquire_slot(std::function<void()> f);

  void release_slot();

  // -- credentials ------------------------------------------------------------

  /// The bearer token to send ("" for none). `force` refreshes a token file
  /// or exec credential unless it already changed since `used` was sent.
  void with_token(bool force, const std::string& used,
                  std::function<void(caf::expected<std::string>)> done);

  void run_exec();

  void on_exec_done(caf::expected<exec_credential> result);

  void log_warnings(const http::fields& fields);

  http::request<http::string_body>
  make_request(const std::string& method, const std::string& target,
               const std::string& accept, const std::string& token,
               std::string body, const std::string& ctype);

  void
  connect(const std::function<void(caf::expected<std::shared_ptr<connection>>)>&
            done);
};

/// One TCP+TLS connection to the apiserver.
struct connection : closable, std::enable_shared_from_this<connection> {
  connection(client::impl& owner, std::shared_ptr<ssl::context> ctx)
      : owner(&owner), ctx(std::move(ctx)), stream(owner.ioc, *this->ctx) {}

  ~connection() override {
    if (id != 0)
      owner->withdraw(id);
  }

  void close_now() override {
    closed = true;
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).socket().close(ec);
  }

  client::impl* owner;
  std::shared_ptr<ssl::context> ctx; // outlives the stream that uses it
  tls_stream stream;
  beast::flat_buffer buffer;
  uint64_t id = 0;
  bool closed = false;
};

} // namespace kws::kube
