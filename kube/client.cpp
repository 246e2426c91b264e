// HTTPS client on Boost.Beast. One io thread runs everything; state of the
// impl is touched only on that thread, except the `stopped` flag and the
// registry of closable objects (mutex).
//
// Short requests: acquire a slot (bounded concurrency) → credentials →
// idle pooled connection or a new one → write → read (idle timeout per
// read) → back to the pool on keep-alive. A reused connection that fails
// before any response byte is stale: retry once on a fresh one. A 401 is
// retried once with refreshed credentials.
//
// Streams: credentials → a fresh connection → write → read the header. A
// 2xx hands a `body_stream` to the caller, which pulls the body piece by
// piece; nothing is read between pieces.
#include "kube/client.hpp"

#include "kube/credentials.hpp"
#include "kube/wire.hpp"
#include "messages/logging.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
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

body_stream::~body_stream() = default;
scheduled_call::~scheduled_call() = default;

namespace {

/// Limit of an error body read from a stream.
constexpr size_t max_error_body = 1 << 20;

/// client-go re-reads token files every minute.
constexpr auto token_file_period = std::chrono::minutes{1};

/// Refresh exec credentials this long before they expire.
constexpr auto exec_expiry_leeway = std::chrono::seconds{10};

/// The pieces of the server URL.
struct server_url {
  std::string host; // without brackets
  std::string port;
  std::string base_path; // "" or "/prefix" without a trailing slash
};

caf::expected<server_url> parse_server(const std::string& server,
                                       const std::string& source) {
  auto fail = [&](std::string_view why) {
    return caf::make_error(
      ec::config_error,
      fmt::format("server '{}' of {}: {}", server, source, why));
  };
  std::string_view rest{server};
  if (rest.starts_with("http://"))
    return fail("plain http is not supported, use https");
  if (!rest.starts_with("https://"))
    return fail("the URL must start with https://");
  rest.remove_prefix(8);
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  server_url result;
  if (slash != std::string_view::npos) {
    result.base_path = std::string{rest.substr(slash)};
    while (!result.base_path.empty() && result.base_path.back() == '/')
      result.base_path.pop_back();
  }
  if (hostport.starts_with("[")) {
    auto close = hostport.find(']');
    if (close == std::string_view::npos)
      return fail("unbalanced '[' in the host");
    result.host = std::string{hostport.substr(1, close - 1)};
    auto after = hostport.substr(close + 1);
    if (!after.empty() && after.front() == ':')
      result.port = std::string{after.substr(1)};
    else if (!after.empty())
      return fail("garbage after the IPv6 host");
  } else {
    auto colon = hostport.rfind(':');
    result.host = std::string{hostport.substr(0, colon)};
    if (colon != std::string_view::npos)
      result.port = std::string{hostport.substr(colon + 1)};
  }
  if (result.host.empty())
    return fail("no host");
  if (result.port.empty())
    result.port = "443";
  return result;
}

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

caf::expected<std::shared_ptr<ssl::context>>
make_ssl_context(const cluster_config& cfg, const std::string& cert_pem,
                 const std::string& key_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                     | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                     | ssl::context::no_tlsv1_1,
                   ec);
  if (cfg.insecure_skip_tls_verify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (!cfg.ca_pem.empty()) {
      // Only the given CA, like client-go: no system roots added.
      ctx->add_certificate_authority(asio::buffer(cfg.ca_pem), ec);
      if (ec)
        return caf::make_error(
          ec::config_error,
          fmt::format("cannot use the certificate authority {} of {}: {}",
                      cfg.ca_file.empty() ? "(inline data)" : cfg.ca_file,
                      cfg.source, ec.message()));
    } else {
      ctx->set_default_verify_paths(ec);
    }
  }
  if (!cert_pem.empty()) {
    ctx->use_certificate_chain(asio::buffer(cert_pem), ec);
    if (ec)
      return caf::make_error(ec::config_error,
                             fmt::format("cannot use the client certificate "
                                         "of {}: {}",
                                         cfg.source, ec.message()));
    ctx->use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
    if (ec)
      return caf::make_error(ec::config_error,
                             fmt::format("cannot use the client key of {}: {}",
                                         cfg.source, ec.message()));
  }
  return ctx;
}

void set_keepalive(tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(asio::socket_base::keep_alive{true}, ec);
  // Detect half-open connections within about a minute.
  int idle = 30;
  int interval = 10;
  int count = 3;
  auto fd = socket.native_handle();
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view x) {
  if (x.empty())
    return std::nullopt;
  int64_t n = 0;
  for (auto c : x) {
    if (c < '0' || c > '9')
      return std::nullopt; // HTTP dates are not used by the apiserver
    n = n * 10 + (c - '0');
    if (n > 86400)
      break;
  }
  return std::chrono::seconds{n};
}

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

} // namespace

// -- impl ---------------------------------------------------------------------

struct connection;

struct client::impl : std::enable_shared_from_this<client::impl> {
  ~impl() {
    // Connections unregister themselves: drop them while the registry lives.
    idle.clear();
    if (thread.joinable()) {
      if (on_io_thread())
        thread.detach();
      else
        thread.join();
    }
  }

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

  uint64_t enroll(const std::shared_ptr<closable>& x) {
    std::lock_guard guard{registry_mtx};
    auto id = ++next_id;
    registry.emplace(id, x);
    return id;
  }

  void withdraw(uint64_t id) {
    std::lock_guard guard{registry_mtx};
    registry.erase(id);
  }

  void close_all() {
    std::vector<std::shared_ptr<closable>> xs;
    {
      std::lock_guard guard{registry_mtx};
      for (auto& [id, weak] : registry)
        if (auto x = weak.lock())
          xs.push_back(std::move(x));
    }
    for (auto& x : xs)
      x->close_now();
    idle.clear();
    waiting.clear();
    exec_waiters.clear();
  }

  bool on_io_thread() const { return std::this_thread::get_id() == thread_id; }

  template <class F>
  void dispatch(F&& f) {
    asio::dispatch(ioc, std::forward<F>(f));
  }

  // -- slots ------------------------------------------------------------------

  void acquire_slot(std::function<void()> f) {
    if (active < opts.max_concurrent_requests) {
      ++active;
      f();
    } else {
      waiting.push_back(std::move(f));
    }
  }

  void release_slot() {
    --active;
    if (!waiting.empty() && !stopped) {
      auto f = std::move(waiting.front());
      waiting.pop_front();
      ++active;
      asio::post(ioc, std::move(f));
    }
  }

  // -- credentials ------------------------------------------------------------

  /// The bearer token to send ("" for none). `force` refreshes a token file
  /// or exec credential unless it already changed since `used` was sent.
  void with_token(bool force, const std::string& used,
                  std::function<void(caf::expected<std::string>)> done) {
    if (!cfg.token.empty()) {
      done(cfg.token);
      return;
    }
    if (!cfg.token_file.empty()) {
      auto now = clock_type::now();
      auto stale = file_token.empty()
        || now - file_token_read >= token_file_period
        || (force && used == file_token);
      if (stale) {
        // Re-open by path each time: the kubelet swaps the file by symlink.
        auto token = read_token_file(cfg.token_file);
        if (token) {
          file_token = std::move(*token);
          file_token_read = now;
        } else if (file_token.empty()) {
          done(token.error());
          return;
        } else {
          KWS_WARN("kube client keeps its old token: {}", token.error());
        }
      }
      done(file_token);
      return;
    }
    if (cfg.exec) {
      auto fresh = exec_cred
        && (!exec_cred->expiry
            || std::chrono::system_clock::now() + exec_expiry_leeway
              < *exec_cred->expiry)
        && !(force && used == exec_cred->token);
      if (fresh) {
        done(exec_cred->token);
        return;
      }
      exec_waiters.push_back(std::move(done));
      if (!exec_running)
        run_exec();
      return;
    }
    done(std::string{});
  }

  void run_exec() {
    exec_running = true;
    KWS_DEBUG("kube client runs exec plugin {}", cfg.exec->command);
    // The plugin may take seconds: run it off the io thread. A detached
    // thread keeps stop() from waiting for a hanging plugin.
    std::thread{[self = shared_from_this()] {
      auto result = run_exec_plugin(*self->cfg.exec, self->cfg);
      asio::post(self->ioc, [self, result = std::move(result)]() mutable {
        self->on_exec_done(std::move(result));
      });
    }}.detach();
  }

  void on_exec_done(caf::expected<exec_credential> result) {
    exec_running = false;
    if (stopped)
      return;
    auto waiters = std::move(exec_waiters);
    exec_waiters.clear();
    if (!result) {
      KWS_WARN("kube client exec plugin failed: {}", result.error());
      for (auto& w : waiters)
        w(result.error());
      return;
    }
    if (result->client_cert_pem != ssl_cert_pem) {
      // New client certificate: new TLS context, drop pooled connections.
      auto ctx = make_ssl_context(cfg, result->client_cert_pem,
                                  result->client_key_pem);
      if (!ctx) {
        for (auto& w : waiters)
          w(ctx.error());
        return;
      }
      ssl_ctx = std::move(*ctx);
      ssl_cert_pem = result->client_cert_pem;
      idle.clear();
    }
    exec_cred = std::move(*result);
    for (auto& w : waiters)
      w(exec_cred->token);
  }

  void log_warnings(const http::fields& fields) {
    for (auto i = fields.find(http::field::warning);
         i != fields.end() && i->name() == http::field::warning; ++i) {
      auto text = std::string{i->value()};
      if (warnings_seen.size() < 1000 && warnings_seen.insert(text).second)
        KWS_WARN("kube client got a warning from {}: {}", authority, text);
    }
  }

  http::request<http::string_body>
  make_request(const std::string& method, const std::string& target,
               const std::string& accept, const std::string& token,
               std::string body, const std::string& ctype) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(url.base_path + target);
    req.version(11);
    req.set(http::field::host, authority);
    req.set(http::field::user_agent, opts.user_agent);
    req.set(http::field::accept, accept);
    if (!token.empty())
      req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty() || method == "POST" || method == "PUT"
        || method == "PATCH") {
      req.set(http::field::content_type,
              !ctype.empty()        ? ctype
                : method == "PATCH" ? "application/merge-patch+json"
                                    : "application/json");
      req.body() = std::move(body);
    }
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  void
  connect(const std::function<void(caf::expected<std::shared_ptr<connection>>)>&
            done);
};

// -- connection ---------------------------------------------------------------

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

void client::impl::connect(
  const std::function<void(caf::expected<std::shared_ptr<connection>>)>& done) {
  auto self = shared_from_this();
  auto conn = std::make_shared<connection>(*this, ssl_ctx);
  conn->id = enroll(conn);
  auto resolver = std::make_shared<tcp::resolver>(ioc);
  auto fail = [self, conn, done](std::string what) {
    conn->close_now();
    done(caf::make_error(ec::transport_error, std::move(what)));
  };
  // Bound the resolve as well: the resolver itself has no deadline.
  auto timer = std::make_shared<asio::steady_timer>(ioc);
  timer->expires_after(opts.connect_timeout);
  timer->async_wait([resolver](boost::system::error_code ec) {
    if (!ec)
      resolver->cancel();
  });
  resolver->async_resolve(
    url.host, url.port,
    [self, conn, resolver, timer, done,
     fail](boost::system::error_code ec,
           const tcp::resolver::results_type& results) {
      timer->cancel();
      if (ec || self->stopped || conn->closed) {
        fail(fmt::format("cannot resolve {} ({}): {}", self->authority,
                         self->cfg.source,
                         ec ? ec.message() : "client stopped"));
        return;
      }
      auto& lowest = beast::get_lowest_layer(conn->stream);
      lowest.expires_after(self->opts.connect_timeout);
      lowest.async_connect(
        results,
        [self, conn, done, fail](boost::system::error_code ec,
                                 const tcp::endpoint&) {
          if (ec || conn->closed) {
            fail(fmt::format("cannot connect to {} ({}): {}", self->authority,
                             self->cfg.source,
                             ec ? ec.message() : "client stopped"));
            return;
          }
          set_keepalive(beast::get_lowest_layer(conn->stream).socket());
          auto* ssl = conn->stream.native_handle();
          if (!self->verify_is_ip)
            SSL_set_tlsext_host_name(ssl, self->verify_name.c_str());
          if (!self->cfg.insecure_skip_tls_verify) {
            auto* param = SSL_get0_param(ssl);
            if (self->verify_is_ip) {
              X509_VERIFY_PARAM_set1_ip_asc(param, self->verify_name.c_str());
            } else {
              X509_VERIFY_PARAM_set_hostflags(
                param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
              X509_VERIFY_PARAM_set1_host(param, self->verify_name.c_str(), 0);
            }
          }
          conn->stream.async_handshake(
            ssl::stream_base::client,
            [self, conn, done, fail](boost::system::error_code ec) {
              if (ec || conn->closed) {
                std::string detail = ec ? ec.message() : "client stopped";
                auto verify
                  = SSL_get_verify_result(conn->stream.native_handle());
                if (ec && verify != X509_V_OK)
                  detail = fmt::format("certificate verification failed for "
                                       "'{}': {}",
                                       self->verify_name,
                                       X509_verify_cert_error_string(verify));
                fail(fmt::format("TLS handshake with {} ({}) failed: {}",
                                 self->authority, self->cfg.source, detail));
                return;
              }
              done(conn);
            });
        });
    });
}

// -- short requests -----------------------------------------------------------

namespace {

/// One short request through the pool.
struct request_op : std::enable_shared_from_this<request_op> {
  std::shared_ptr<client::impl> self;
  request_options req;
  std::function<void(caf::expected<response>)> done;
  std::shared_ptr<connection> conn;
  bool reused = false;
  bool stale_retried = false;
  bool auth_retried = false;
  bool got_bytes = false;
  std::string token;
  http::request<http::string_body> msg;
  std::optional<http::response_parser<http::string_body>> parser;

  void start() {
    auto op = shared_from_this();
    self->acquire_slot([op] { op->authenticate(false); });
  }

  void authenticate(bool force) {
    auto op = shared_from_this();
    self->with_token(force, token, [op](caf::expected<std::string> t) {
      if (!t) {
        op->finish(t.error());
        return;
      }
      op->token = std::move(*t);
      op->acquire_connection();
    });
  }

  void acquire_connection() {
    if (self->stopped) {
      finish(caf::make_error(ec::unavailable, "kube client stopped"));
      return;
    }
    got_bytes = false;
    if (!self->idle.empty()) {
      conn = std::move(self->idle.back());
      self->idle.pop_back();
      reused = true;
      write();
      return;
    }
    reused = false;
    auto op = shared_from_this();
    self->connect([op](caf::expected<std::shared_ptr<connection>> c) {
      if (!c) {
        op->finish(c.error());
        return;
      }
      op->conn = std::move(*c);
      op->write();
    });
  }

  void write() {
    msg = self->make_request(req.method, req.target, req.accept, token,
                             req.body, req.content_type);
    beast::get_lowest_layer(conn->stream)
      .expires_after(self->opts.request_idle_timeout);
    auto op = shared_from_this();
    http::async_write(conn->stream, msg,
                      [op](boost::system::error_code ec, size_t) {
                        if (ec) {
                          op->on_io_error(ec, "writing the request");
                          return;
                        }
                        op->parser.emplace();
                        if (op->self->opts.max_body_bytes > 0)
                          op->parser->body_limit(op->self->opts.max_body_bytes);
                        else
                          op->parser->body_limit(boost::none);
                        op->parser->header_limit(64 * 1024);
                        op->read();
                      });
  }

  void read() {
    beast::get_lowest_layer(conn->stream)
      .expires_after(self->opts.request_idle_timeout);
    auto op = shared_from_this();
    http::async_read_some(conn->stream, conn->buffer, *parser,
                          [op](boost::system::error_code ec, size_t n) {
                            if (n > 0)
                              op->got_bytes = true;
                            if (ec) {
                              op->on_io_error(ec, "reading the response");
                              return;
                            }
                            if (op->parser->is_done())
                              op->on_response();
                            else
                              op->read();
                          });
  }

  void on_io_error(boost::system::error_code ec, std::string_view what) {
    conn->close_now();
    // A pooled connection the server closed while idle fails before any
    // response byte: retry once on a fresh connection.
    if (reused && !got_bytes && !stale_retried && !self->stopped
        && ec != beast::error::timeout) {
      stale_retried = true;
      conn.reset();
      acquire_connection();
      return;
    }
    finish(caf::make_error(
      ec::transport_error,
      fmt::format("{} https://{}{} ({}): {}: {}", req.method, self->authority,
                  req.target, self->cfg.source, what,
                  ec == beast::error::timeout ? "timed out" : ec.message())));
  }

  void on_response() {
    auto res = parser->release();
    self->log_warnings(res.base());
    if (res.keep_alive() && !self->stopped && !conn->closed
        && self->idle.size() < self->opts.max_idle_connections)
      self->idle.push_back(std::move(conn));
    else if (conn)
      conn->close_now();
    conn.reset();
    if (res.result_int() == 401 && !auth_retried
        && (!self->cfg.token_file.empty() || self->cfg.exec)
        && self->cfg.token.empty()) {
      auth_retried = true;
      authenticate(true);
      return;
    }
    response result;
    result.status = res.result_int();
    result.content_type = std::string{res[http::field::content_type]};
    result.retry_after = parse_retry_after(res[http::field::retry_after]);
    result.body = std::move(res.body());
    finish(std::move(result));
  }

  void finish(caf::expected<response> result) {
    if (conn) {
      conn->close_now();
      conn.reset();
    }
    self->release_slot();
    if (self->stopped)
      return;
    auto f = std::move(done);
    f(std::move(result));
  }
};

// -- streams ------------------------------------------------------------------

/// A streaming response body on its own connection.
class body_stream_impl : public body_stream,
                         public std::enable_shared_from_this<body_stream_impl> {
public:
  using parser_type = http::response_parser<http::buffer_body>;

  body_stream_impl(std::shared_ptr<client::impl> self,
                   std::shared_ptr<connection> conn,
                   std::unique_ptr<parser_type> parser, stream_options opts)
      : self_(std::move(self)), conn_(std::move(conn)),
        parser_(std::move(parser)), opts_(std::move(opts)) {
    if (opts_.max_age.count() > 0)
      deadline_ = clock_type::now() + opts_.max_age;
  }

  ~body_stream_impl() override {
    if (conn_)
      conn_->close_now();
  }

  void
  read(std::function<void(caf::expected<std::string_view>)> done) override {
    auto s = shared_from_this();
    self_->dispatch(
      [s, done = std::move(done)]() mutable { s->do_read(std::move(done)); });
  }

  void close() override {
    auto s = shared_from_this();
    self_->dispatch([s] { s->conn_->close_now(); });
  }

  /// Reads the remaining body into a string (for error bodies).
  static void drain(std::shared_ptr<body_stream_impl> s, std::string acc,
                    std::function<void(std::string)> done) {
    if (acc.size() >= max_error_body) {
      done(std::move(acc));
      return;
    }
    s->do_read([s, acc = std::move(acc), done = std::move(done)](
                 caf::expected<std::string_view> piece) mutable {
      if (!piece || piece->empty()) {
        done(std::move(acc));
        return;
      }
      acc.append(*piece);
      drain(std::move(s), std::move(acc), std::move(done));
    });
  }

  void do_read(std::function<void(caf::expected<std::string_view>)> done) {
    if (conn_->closed || self_->stopped) {
      done(caf::make_error(ec::transport_error, "stream closed"));
      return;
    }
    if (parser_->is_done()) {
      done(std::string_view{});
      return;
    }
    auto timeout = opts_.idle_timeout;
    bool age_limited = false;
    if (deadline_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *deadline_ - clock_type::now());
      if (left < timeout) {
        timeout = std::max(left, std::chrono::milliseconds{1});
        age_limited = true;
      }
    }
    parser_->get().body().data = buf_.data();
    parser_->get().body().size = buf_.size();
    beast::get_lowest_layer(conn_->stream).expires_after(timeout);
    auto s = shared_from_this();
    http::async_read_some(
      conn_->stream, conn_->buffer, *parser_,
      [s, done = std::move(done), age_limited](boost::system::error_code ec,
                                               size_t) mutable {
        if (ec == http::error::need_buffer)
          ec = {};
        auto n = s->buf_.size() - s->parser_->get().body().size;
        if (ec) {
          s->conn_->close_now();
          if (s->self_->stopped)
            return;
          std::string why = ec.message();
          if (ec == beast::error::timeout)
            why = age_limited
              ? "the stream reached its maximum age"
              : fmt::format("no data for {}s",
                            std::chrono::duration_cast<std::chrono::seconds>(
                              s->opts_.idle_timeout)
                              .count());
          done(
            caf::make_error(ec::transport_error,
                            fmt::format("stream {} {}: {}", s->self_->authority,
                                        s->opts_.target, why)));
          return;
        }
        if (n == 0 && !s->parser_->is_done()) {
          s->do_read(std::move(done)); // only framing was parsed
          return;
        }
        if (s->self_->stopped)
          return;
        done(std::string_view{s->buf_.data(), n});
      });
  }

private:
  std::shared_ptr<client::impl> self_;
  std::shared_ptr<connection> conn_;
  std::unique_ptr<parser_type> parser_;
  stream_options opts_;
  std::optional<clock_type::time_point> deadline_;
  std::array<char, 64 * size_t{1024}> buf_;
};

/// Opens one stream: credentials, a fresh connection, the response head.
struct stream_op : std::enable_shared_from_this<stream_op> {
  std::shared_ptr<client::impl> self;
  stream_options opts;
  std::function<void(caf::expected<stream_result>)> done;
  std::shared_ptr<connection> conn;
  bool auth_retried = false;
  std::string token;
  http::request<http::string_body> msg;
  std::unique_ptr<body_stream_impl::parser_type> parser;

  void authenticate(bool force) {
    auto op = shared_from_this();
    self->with_token(force, token, [op](caf::expected<std::string> t) {
      if (!t) {
        op->finish(t.error());
        return;
      }
      op->token = std::move(*t);
      op->self->connect([op](caf::expected<std::shared_ptr<connection>> c) {
        if (!c) {
          op->finish(c.error());
          return;
        }
        op->conn = std::move(*c);
        op->write();
      });
    });
  }

  void write() {
    msg = self->make_request("GET", opts.target, opts.accept, token, {}, {});
    beast::get_lowest_layer(conn->stream)
      .expires_after(self->opts.request_idle_timeout);
    auto op = shared_from_this();
    http::async_write(conn->stream, msg,
                      [op](boost::system::error_code ec, size_t) {
                        if (ec) {
                          op->fail(ec, "writing the request");
                          return;
                        }
                        op->read_header();
                      });
  }

  void read_header() {
    parser = std::make_unique<body_stream_impl::parser_type>();
    parser->body_limit(boost::none); // a watch has no size limit
    parser->header_limit(64 * 1024);
    // The apiserver flushes the header at once; wait as long as for data.
    beast::get_lowest_layer(conn->stream).expires_after(opts.idle_timeout);
    auto op = shared_from_this();
    http::async_read_header(conn->stream, conn->buffer, *parser,
                            [op](boost::system::error_code ec, size_t) {
                              if (ec) {
                                op->fail(ec, "reading the response header");
                                return;
                              }
                              op->on_header();
                            });
  }

  void on_header() {
    const auto& head = parser->get();
    self->log_warnings(head.base());
    response resp;
    resp.status = head.result_int();
    resp.content_type = std::string{head[http::field::content_type]};
    resp.retry_after = parse_retry_after(head[http::field::retry_after]);
    auto body = std::make_shared<body_stream_impl>(self, std::move(conn),
                                                   std::move(parser), opts);
    if (resp.status >= 200 && resp.status < 300) {
      finish(stream_result{std::move(resp), std::move(body)});
      return;
    }
    auto op = shared_from_this();
    body_stream_impl::drain(
      body, {}, [op, body, resp = std::move(resp)](std::string text) mutable {
        body->close();
        if (resp.status == 401 && !op->auth_retried
            && (!op->self->cfg.token_file.empty() || op->self->cfg.exec)
            && op->self->cfg.token.empty()) {
          op->auth_retried = true;
          op->authenticate(true);
          return;
        }
        resp.body = std::move(text);
        op->finish(stream_result{std::move(resp), nullptr});
      });
  }

  void fail(boost::system::error_code ec, std::string_view what) {
    conn->close_now();
    finish(caf::make_error(
      ec::transport_error,
      fmt::format("GET {} {}: {}: {}", self->authority, opts.target, what,
                  ec == beast::error::timeout ? "timed out" : ec.message())));
  }

  void finish(caf::expected<stream_result> result) {
    if (self->stopped) {
      if (result && result->body)
        result->body->close();
      return;
    }
    auto f = std::move(done);
    f(std::move(result));
  }
};

/// A timer behind `client::schedule`.
struct timer_call : scheduled_call,
                    closable,
                    std::enable_shared_from_this<timer_call> {
  explicit timer_call(const std::shared_ptr<client::impl>& self)
      : self(self), timer(self->ioc) {}

  ~timer_call() override {
    if (id != 0)
      self->withdraw(id);
  }

  void cancel() override {
    cancelled = true;
    auto t = shared_from_this();
    self->dispatch([t] { t->timer.cancel(); });
  }

  void close_now() override {
    cancelled = true;
    timer.cancel();
  }

  std::shared_ptr<client::impl> self;
  asio::steady_timer timer;
  std::atomic<bool> cancelled{false};
  uint64_t id = 0;
};

} // namespace

// -- status errors ------------------------------------------------------------

caf::error status_error(const response& resp, std::string_view method,
                        std::string_view server, std::string_view target) {
  auto status = parse_status(resp.body, static_cast<int>(resp.status));
  auto code = ec::unexpected_status;
  switch (resp.status) {
    case 401:
    case 403: code = ec::unauthorized; break;
    case 404: code = ec::not_found; break;
    case 410: code = ec::gone; break;
    case 429: code = ec::too_many_requests; break;
    default: break;
  }
  auto text
    = fmt::format("{} {}{}: HTTP {}", method, server, target, resp.status);
  if (!status.reason.empty())
    text += fmt::format(" {}", status.reason);
  if (!status.message.empty())
    text += fmt::format(": {}", status.message);
  if (resp.retry_after)
    text += fmt::format(" (Retry-After {}s)", resp.retry_after->count());
  return caf::make_error(code, std::move(text));
}

// -- client -------------------------------------------------------------------

caf::expected<std::shared_ptr<client>> client::make(cluster_config cfg,
                                                    client_options opts) {
  auto url = parse_server(cfg.server, cfg.source);
  if (!url)
    return url.error();
  if (!cfg.proxy_url.empty())
    return caf::make_error(ec::config_error,
                           fmt::format("proxy-url {} of {} is not supported",
                                       cfg.proxy_url, cfg.source));
  auto ctx = make_ssl_context(cfg, cfg.client_cert_pem, cfg.client_key_pem);
  if (!ctx)
    return ctx.error();
  auto result = std::shared_ptr<client>(new client());
  auto im = std::make_shared<impl>();
  im->url = std::move(*url);
  im->authority = im->url.host.find(':') != std::string::npos
    ? fmt::format("[{}]:{}", im->url.host, im->url.port)
    : fmt::format("{}:{}", im->url.host, im->url.port);
  im->verify_name
    = cfg.tls_server_name.empty() ? im->url.host : cfg.tls_server_name;
  im->verify_is_ip = is_ip_address(im->verify_name);
  im->ssl_ctx = std::move(*ctx);
  im->ssl_cert_pem = cfg.client_cert_pem;
  if (opts.max_concurrent_requests == 0)
    opts.max_concurrent_requests = 1;
  im->cfg = std::move(cfg);
  im->opts = std::move(opts);
  im->work.emplace(im->ioc.get_executor());
  std::promise<void> ready;
  auto ready_future = ready.get_future();
  std::promise<void> finished;
  im->thread_done = finished.get_future();
  // The thread keeps the impl alive until run() returns (after stop());
  // the impl may then die on the io thread, and ~impl detaches it.
  im->thread = std::thread{[p = im, ready = std::move(ready),
                            finished = std::move(finished)]() mutable {
    p->thread_id = std::this_thread::get_id();
    ready.set_value();
    for (;;) {
      try {
        p->ioc.run();
        break;
      } catch (const std::exception& e) {
        KWS_ERROR("kube client io thread caught: {}", e.what());
      }
    }
    finished.set_value();
  }};
  ready_future.wait();
  result->impl_ = std::move(im);
  return result;
}

client::~client() {
  // Only a failed thread join can throw here; report it instead of letting
  // the exception escape a destructor.
  try {
    stop();
  } catch (const std::exception& e) {
    KWS_ERROR("kube client did not stop cleanly: {}", e.what());
  }
}

void client::get(std::string path_and_query,
                 std::function<void(caf::expected<std::string>)> done) {
  request("GET", std::move(path_and_query), {}, std::move(done));
}

void client::request(std::string method, std::string path_and_query,
                     std::string body,
                     std::function<void(caf::expected<std::string>)> done) {
  request_options req;
  req.method = std::move(method);
  req.target = std::move(path_and_query);
  req.body = std::move(body);
  auto method_copy = req.method;
  auto target_copy = req.target;
  auto authority = impl_->authority;
  send(std::move(req),
       [done = std::move(done), method_copy, target_copy,
        authority](caf::expected<response> res) {
         if (!res) {
           done(res.error());
           return;
         }
         if (res->status < 200 || res->status >= 300) {
           done(status_error(*res, method_copy, authority, target_copy));
           return;
         }
         done(std::move(res->body));
       });
}

void client::send(request_options req,
                  std::function<void(caf::expected<response>)> done) {
  if (impl_->stopped) {
    done(caf::make_error(ec::unavailable, "kube client stopped"));
    return;
  }
  auto op = std::make_shared<request_op>();
  op->self = impl_;
  op->req = std::move(req);
  op->done = std::move(done);
  asio::post(impl_->ioc, [op] { op->start(); });
}

void client::open_stream(
  stream_options opts, std::function<void(caf::expected<stream_result>)> done) {
  if (impl_->stopped) {
    done(caf::make_error(ec::unavailable, "kube client stopped"));
    return;
  }
  auto op = std::make_shared<stream_op>();
  op->self = impl_;
  op->opts = std::move(opts);
  op->done = std::move(done);
  asio::post(impl_->ioc, [op] { op->authenticate(false); });
}

std::shared_ptr<scheduled_call>
client::schedule(std::chrono::milliseconds delay, std::function<void()> f) {
  auto t = std::make_shared<timer_call>(impl_);
  if (impl_->stopped)
    return t;
  t->id = impl_->enroll(t);
  asio::post(impl_->ioc, [t, delay, f = std::move(f)]() mutable {
    if (t->cancelled)
      return;
    t->timer.expires_after(delay);
    t->timer.async_wait([t, f = std::move(f)](boost::system::error_code ec) {
      if (ec || t->cancelled || t->self->stopped)
        return;
      f();
    });
  });
  return t;
}

void client::post(std::function<void()> f) {
  if (impl_->stopped)
    return;
  asio::post(impl_->ioc, [im = impl_, f = std::move(f)] {
    if (!im->stopped)
      f();
  });
}

void client::post_cleanup(std::function<void()> f) {
  if (impl_->stopped)
    return;
  // Queued before stop's own steps or, when stop already queued them, as
  // work that keeps run() going until it ran.
  asio::post(impl_->ioc, std::move(f));
}

bool client::on_io_thread() const {
  return impl_->on_io_thread();
}

void client::stop() {
  if (!impl_ || impl_->stopped.exchange(true))
    return;
  auto im = impl_;
  asio::post(im->ioc, [im] { im->close_all(); });
  // Let run() return once every operation finished after the close.
  asio::post(im->ioc, [im] { im->work.reset(); });
  if (im->on_io_thread())
    return;
  if (im->thread_done.wait_for(im->opts.stop_timeout)
      != std::future_status::ready) {
    KWS_WARN("kube client io thread did not finish within {} ms, stopping it",
             im->opts.stop_timeout.count());
    im->ioc.stop();
  }
  if (im->thread.joinable())
    im->thread.join();
  // Handlers that ioc.stop() left queued own operations, reflectors and,
  // through them, the impl: a cycle nothing else breaks. Destroy them
  // without running them, as the io_context's destructor would.
  im->ioc.shutdown();
}

const cluster_config& client::config() const {
  return impl_->cfg;
}

const std::string& client::authority() const {
  return impl_->authority;
}

} // namespace kws::kube
