#include "rest/server.hpp"

#include "messages/errors.hpp"
#include "messages/logging.hpp"
#include "rest/connection_book.hpp"
#include "rest/render.hpp"
#include "rest/request_head.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

namespace kws::rest {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

http_response error_response(uint16_t status, std::string_view message,
                             std::string_view parameter) {
  http_response result;
  result.status = status;
  result.body = render_error_body(message, parameter);
  return result;
}

namespace {

/// What the first read of an idle connection asks for; the head parser
/// reads on from there.
constexpr size_t first_read_bytes = 4096;

/// One connection: read a request, hand it to the handler, write the answer,
/// repeat while the client keeps the connection alive. All I/O runs on the
/// connection's strand.
class session : public std::enable_shared_from_this<session> {
public:
  /// @param how what `book` admitted this connection from `remote` for.
  session(tcp::socket&& socket, const server_options& opts,
          const request_handler& handler, connection_book& book,
          std::string remote, bool loopback, admission how)
      : stream_{std::move(socket)}, timer_{stream_.get_executor()}, opts_{opts},
        handler_{handler}, book_{book}, how_{how}, loopback_{loopback},
        remote_{std::move(remote)} {}

  ~session() { book_.close(remote_, how_); }

  void run() {
    net::dispatch(
      stream_.get_executor(),
      beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

  /// Answers without reading, e.g. when over the connection limit.
  void reject(http_response res) {
    keep_alive_ = false;
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this(), res = std::move(res)]() mutable {
                    self->begin_access(nullptr);
                    self->do_write(std::move(res));
                  });
  }

  /// Called from any thread once per request.
  void deliver(http_response res, uint64_t request_id) {
    net::post(
      stream_.get_executor(),
      [self = shared_from_this(), res = std::move(res), request_id]() mutable {
        if (request_id != self->request_id_ || !self->waiting_)
          return; // answered already (timeout) or stale
        self->waiting_ = false;
        self->timer_.cancel();
        self->do_write(std::move(res));
      });
  }

private:
  // An idle connection may wait for its next request up to the idle
  // timeout; from the first byte on, the request must come in whole within
  // the head timeout.
  void do_read() {
    parser_.emplace();
    limit_parser(*parser_, opts_);
    if (buffer_.size() > 0)
      return read_head(); // pipelined: the next request is here already
    stream_.expires_after(opts_.read_timeout);
    stream_.async_read_some(
      buffer_.prepare(first_read_bytes),
      [self = shared_from_this()](beast::error_code ec, size_t n) {
        self->buffer_.commit(n);
        if (ec)
          return self->on_read(ec, n);
        self->read_head();
      });
  }

  void read_head() {
    stream_.expires_after(opts_.head_timeout);
    http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&session::on_head, shared_from_this()));
  }

  // The head decides the body limit, so the body is read in a second step.
  void on_head(beast::error_code ec, size_t n) {
    if (ec)
      return on_read(ec, n);
    if (!limit_body(*parser_, opts_))
      return on_read(http::error::body_limit, n);
    http::async_read(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == net::error::operation_aborted
        || ec == net::error::connection_reset || ec == net::error::eof)
      return do_close();
    keep_alive_ = false;
    version_ = 11;
    if (ec) {
      head_only_ = false; // the previous request's, on a kept-alive connection
      begin_access(nullptr);
      return do_write(read_error_response(ec));
    }
    stream_.expires_never();
    const auto& req = parser_->get();
    begin_access(&req);
    keep_alive_ = req.keep_alive();
    // An HTTP/1.0 client keeps a connection only when the answer says so:
    // answering in its version makes Beast write `Connection: keep-alive`.
    version_ = req.version() == 10 ? 10 : 11;
    head_only_ = req.method() == http::verb::head;
    auto accepted = accept_request(req, loopback_, opts_);
    if (auto* res = std::get_if<http_response>(&accepted))
      return do_write(std::move(*res));
    if (how_ == admission::probes_only) {
      // Admitted beyond the limits: a probe is answered, then the
      // connection closes; anything else is refused.
      keep_alive_ = false;
      if (!is_probe_path(std::get<http_request>(accepted).path))
        return do_write(error_response(503, "too many connections"));
    }
    waiting_ = true;
    ++request_id_;
    timer_.expires_after(opts_.handler_timeout);
    timer_.async_wait(
      [self = shared_from_this(), id = request_id_](beast::error_code ec) {
        if (ec || id != self->request_id_ || !self->waiting_)
          return;
        self->waiting_ = false;
        self->do_write(error_response(504, "the request timed out"));
      });
    handler_(
      std::move(std::get<http_request>(accepted)),
      std::make_shared<session_responder>(shared_from_this(), request_id_));
  }

  void do_write(http_response res) {
    access_.status = res.status;
    access_.bytes = head_only_ ? 0 : res.body.size();
    http::response<http::string_body> msg;
    msg.version(version_);
    msg.result(res.status);
    msg.set(http::field::server, "k8s-watch-server");
    msg.set(http::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers)
      msg.set(k, v);
    msg.keep_alive(keep_alive_);
    msg.body() = std::move(res.body);
    msg.prepare_payload();
    if (head_only_)
      msg.body().clear(); // Content-Length keeps the GET size
    auto sp
      = std::make_shared<http::response<http::string_body>>(std::move(msg));
    auto sr
      = std::make_shared<http::response_serializer<http::string_body>>(*sp);
    stream_.expires_after(opts_.read_timeout);
    if (head_only_) {
      http::async_write_header(
        stream_, *sr,
        [self = shared_from_this(), sp, sr](beast::error_code ec, size_t) {
          self->on_write(ec);
        });
      return;
    }
    write_some(std::move(sp), std::move(sr));
  }

  // The deadline is per progress, not per answer: a slow reader of a large
  // page gets all of it as long as it keeps taking bytes.
  void
  write_some(std::shared_ptr<http::response<http::string_body>> sp,
             std::shared_ptr<http::response_serializer<http::string_body>> sr) {
    stream_.expires_after(opts_.read_timeout);
    auto& serializer = *sr;
    http::async_write_some(
      stream_, serializer,
      [self = shared_from_this(), sp = std::move(sp),
       sr = std::move(sr)](beast::error_code ec, size_t) mutable {
        if (ec || sr->is_done())
          return self->on_write(ec);
        self->write_some(std::move(sp), std::move(sr));
      });
  }

  void on_write(beast::error_code ec) {
    // Also after a failed write: the request was answered, if not received.
    end_access();
    if (ec || !keep_alive_)
      return do_close();
    do_read();
  }

  /// Starts the access entry of a request; `req` is null when its head did
  /// not parse (or was never read).
  void begin_access(const request_parser::value_type* req) {
    if (!opts_.on_access)
      return;
    started_ = std::chrono::steady_clock::now();
    access_ = access_entry{};
    access_.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    access_.remote = remote_;
    if (req) {
      access_.method = std::string{req->method_string()};
      access_.target = std::string{req->target()};
    }
  }

  void end_access() {
    if (!opts_.on_access)
      return;
    access_.duration = std::chrono::steady_clock::now() - started_;
    if (should_log(access_))
      opts_.on_access(access_);
  }

  void do_close() {
    beast::error_code ec;
    timer_.cancel();
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  /// Hands the answer back onto the session's strand.
  class session_responder : public responder {
  public:
    session_responder(std::shared_ptr<session> s, uint64_t id)
        : session_{std::move(s)}, id_{id} {}
    void deliver(http_response res) override {
      if (auto s = std::exchange(session_, nullptr))
        s->deliver(std::move(res), id_);
    }

  private:
    std::shared_ptr<session> session_;
    uint64_t id_;
  };

  beast::tcp_stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  const server_options& opts_;
  const request_handler& handler_;
  connection_book& book_;
  admission how_;
  /// The client connected from a loopback address (admin endpoints).
  bool loopback_;
  bool keep_alive_ = true;
  /// HTTP version of the answer: the request's (1.0 or 1.1).
  unsigned version_ = 11;
  bool head_only_ = false;
  bool waiting_ = false;
  uint64_t request_id_ = 0;
  /// The client's address, for the access log.
  std::string remote_;
  /// The access log entry of the request being answered, and when its head
  /// had been read.
  access_entry access_;
  std::chrono::steady_clock::time_point started_;
};

} // namespace

struct server::impl {
  impl(server_options o, request_handler h)
      : opts{std::move(o)}, handler{std::move(h)},
        ioc{std::max(1, opts.threads)}, acceptor{net::make_strand(ioc)} {}

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc),
                          [this](beast::error_code ec, tcp::socket socket) {
                            on_accept(ec, std::move(socket));
                          });
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open())
      return;
    if (ec) {
      KWS_WARN("http server failed to accept a connection: {}", ec.message());
    } else {
      beast::error_code ep_ec;
      auto remote = socket.remote_endpoint(ep_ec);
      auto client = ep_ec ? std::string{} : remote.address().to_string();
      bool loopback = !ep_ec && remote.address().is_loopback();
      auto how = book.open(client);
      auto s = std::make_shared<session>(std::move(socket), opts, handler, book,
                                         std::move(client), loopback, how);
      if (how == admission::refused)
        s->reject(error_response(503, "too many connections"));
      else
        s->run();
    }
    do_accept();
  }

  // Sessions refer to these three, so they outlive the io_context.
  server_options opts;
  request_handler handler;
  connection_book book{connection_limits{
    opts.max_connections, opts.max_connections_per_client, opts.probe_reserve}};
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;
};

server::server(std::unique_ptr<impl> ptr) : impl_{std::move(ptr)} {
  // nop
}

server::~server() {
  // Only a failed thread join can throw here; report it instead of letting
  // the exception escape a destructor.
  try {
    stop();
  } catch (const std::exception& e) {
    KWS_ERROR("http server did not stop cleanly: {}", e.what());
  }
}

caf::expected<std::unique_ptr<server>> server::start(server_options opts,
                                                     request_handler handler) {
  auto ptr = std::make_unique<impl>(std::move(opts), std::move(handler));
  beast::error_code ec;
  auto addr = net::ip::make_address(ptr->opts.address, ec);
  if (ec)
    return caf::make_error(ec::config_error,
                           "invalid listen address " + ptr->opts.address);
  tcp::endpoint ep{addr, ptr->opts.port};
  auto fail = [&](const char* what) {
    return caf::make_error(
      ec::transport_error,
      std::string{"cannot "} + what + " " + ptr->opts.address + ":"
        + std::to_string(ptr->opts.port) + ": " + ec.message());
  };
  ptr->acceptor.open(ep.protocol(), ec);
  if (ec)
    return fail("open");
  ptr->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec)
    return fail("configure");
  ptr->acceptor.bind(ep, ec);
  if (ec)
    return fail("bind");
  ptr->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return fail("listen on");
  ptr->bound_port = ptr->acceptor.local_endpoint().port();
  ptr->do_accept();
  for (int i = 0; i < std::max(1, ptr->opts.threads); ++i)
    ptr->threads.emplace_back([p = ptr.get()] { p->ioc.run(); });
  return std::unique_ptr<server>{new server(std::move(ptr))};
}

uint16_t server::port() const {
  return impl_->bound_port;
}

void server::stop() {
  if (!impl_ || impl_->threads.empty())
    return;
  net::post(impl_->acceptor.get_executor(), [p = impl_.get()] {
    beast::error_code ec;
    p->acceptor.close(ec);
  });
  // Sessions waiting for a handler hold no pending I/O; stopping the context
  // drops them with their sockets.
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable())
      t.join();
  impl_->threads.clear();
}

} // namespace kws::rest
