// One connection of the HTTP server, plain or TLS: read a request, hand it
// to the handler, write the answer, repeat while the client keeps the
// connection alive. Included by server.cpp only.
#pragma once

#include "rest/answer_budget.hpp"
#include "rest/connection_book.hpp"
#include "rest/render.hpp"
#include "rest/request_head.hpp"
#include "rest/routes.hpp"
#include "rest/server.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace kws::rest::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

/// What the first read of an idle connection asks for; the head parser
/// reads on from there.
constexpr size_t first_read_bytes = 4096;

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

/// How long a closing TLS connection waits for the client's close_notify.
constexpr std::chrono::seconds tls_shutdown_timeout{1};

/// The answer the server gives a probe by itself, on the io thread, so that
/// it never waits behind pages the handler builds: `/health`, `/healthz`
/// and `/livez` say only that the process serves; `/readyz` asks
/// `opts.readiness` (when set). Nothing for any other path.
inline std::optional<http_response> answer_probe(const std::string& path,
                                                 const server_options& opts) {
  auto which = match_route(path).which;
  http_response res;
  if (which == route::health)
    res.body = R"({"status":"ok"})";
  else if (which == route::livez)
    res.body = R"({"status":"live"})";
  else if (which == route::readyz && opts.readiness)
    res = opts.readiness();
  else
    return std::nullopt;
  return res;
}

/// Counts the idle connections closed to make room for new ones.
inline metrics::counter& evictions() {
  static auto& result = metrics::get_counter(
    "kws_http_connections_evicted_total",
    "Idle HTTP connections closed to make room for new ones.");
  return result;
}

/// One connection: read a request, hand it to the handler, write the answer,
/// repeat while the client keeps the connection alive. All I/O runs on the
/// connection's strand. `Stream` is `plain_stream` or `tls_stream`; a TLS
/// connection completes its handshake within the head timeout first.
template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
public:
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

  /// @param stream the accepted connection.
  /// @param buffer bytes already read from it (the start of a handshake or
  /// of a request).
  /// @param context the TLS context (null for a plain connection).
  /// @param place what `book` admitted this connection from `remote` for.
  session(beast::tcp_stream&& stream, beast::flat_buffer&& buffer,
          std::shared_ptr<ssl::context> context, const server_options& opts,
          const request_handler& handler, connection_book& book,
          answer_budget& budget, std::string remote, bool loopback,
          connection_place place)
      : context_{std::move(context)}, stream_{open_stream(std::move(stream),
                                                          context_.get())},
        timer_{stream_.get_executor()}, buffer_{std::move(buffer)}, opts_{opts},
        handler_{handler}, book_{book}, budget_{budget}, place_{place},
        loopback_{loopback}, remote_{std::move(remote)} {}

  ~session() {
    give_back_answer();
    book_.close(place_.id);
  }

  void run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      self->handshake_then([self] { self->do_read(); });
    });
  }

  /// Answers without reading, e.g. when over the connection limit.
  void reject(http_response res) {
    keep_alive_ = false;
    net::dispatch(
      stream_.get_executor(),
      [self = this->shared_from_this(), res = std::move(res)]() mutable {
        self->handshake_then([self, res = std::move(res)]() mutable {
          self->begin_access(nullptr);
          self->do_write(std::move(res));
        });
      });
  }

  /// Called from any thread once per request.
  void deliver(http_response res, uint64_t request_id) {
    net::post(stream_.get_executor(),
              [self = this->shared_from_this(), res = std::move(res),
               request_id]() mutable {
                if (request_id != self->request_id_ || !self->waiting_)
                  return; // answered already (timeout) or stale
                self->waiting_ = false;
                self->timer_.cancel();
                if (self->holds_answer_) {
                  self->held_bytes_ = res.body.size();
                  self->budget_.hold(self->held_bytes_);
                }
                self->do_write(std::move(res));
              });
  }

private:
  static Stream open_stream(beast::tcp_stream&& stream, ssl::context* context) {
    if constexpr (is_tls)
      return Stream{std::move(stream), *context};
    else
      return Stream{std::move(stream)};
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  /// Runs `then` once the connection speaks HTTP: at once when plain, after
  /// the handshake when TLS (a failed one closes the connection).
  template <class Then>
  void handshake_then(Then then) {
    if constexpr (is_tls) {
      lowest().expires_after(opts_.head_timeout);
      // `used` has a default: Boost 1.81 checks this handler against the
      // unbuffered signature, void(error_code), but calls it with both.
      stream_.async_handshake(
        ssl::stream_base::server, buffer_.data(),
        [self = this->shared_from_this(), then = std::move(then)](
          beast::error_code ec, size_t used = 0) mutable {
          self->buffer_.consume(used);
          if (ec) {
            KWS_DEBUG("http server: TLS handshake with {} failed: {}",
                      self->remote_, ec.message());
            return self->close_socket();
          }
          self->secured_ = true;
          if (self->opts_.proxy)
            self->client_cert_name_
              = verified_client_name(self->stream_.native_handle());
          then();
        });
    } else {
      then();
    }
  }

  // An idle connection may wait for its next request up to the idle
  // timeout; from the first byte on, the request must come in whole within
  // the head timeout.
  void do_read() {
    parser_.emplace();
    limit_parser(*parser_, opts_);
    if (buffer_.size() > 0)
      return read_head(); // pipelined: the next request is here already
    lowest().expires_after(opts_.read_timeout);
    // Until a byte arrives, the connection may give its place to a new one.
    if (place_.id != 0)
      book_.idle(
        place_.id,
        [weak = this->weak_from_this(), exec = stream_.get_executor()] {
          net::post(exec, [weak] {
            if (auto self = weak.lock())
              self->on_evicted();
          });
        });
    stream_.async_read_some(
      buffer_.prepare(first_read_bytes),
      [self = this->shared_from_this()](beast::error_code ec, size_t n) {
        self->buffer_.commit(n);
        if (self->place_.id != 0 && !self->book_.busy(self->place_.id))
          return self->close_socket(); // evicted: its place is taken
        if (ec)
          return self->on_read(ec, n);
        self->read_head();
      });
  }

  /// The book gave this idle connection's place to a new one.
  void on_evicted() {
    evictions().inc();
    KWS_DEBUG("http server closed an idle connection from {} to make room",
              remote_);
    close_socket();
  }

  void read_head() {
    lowest().expires_after(opts_.head_timeout);
    http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&session::on_head, this->shared_from_this()));
  }

  // The head decides the body limit, so the body is read in a second step.
  void on_head(beast::error_code ec, size_t n) {
    if (ec)
      return on_read(ec, n);
    if (!limit_body(*parser_, opts_))
      return on_read(http::error::body_limit, n);
    http::async_read(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&session::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == net::error::operation_aborted
        || ec == net::error::connection_reset || ec == net::error::eof
        || ec == ssl::error::stream_truncated)
      return do_close();
    keep_alive_ = false;
    version_ = 11;
    if (ec) {
      head_only_ = false; // the previous request's, on a kept-alive connection
      begin_access(nullptr);
      return do_write(read_error_response(ec));
    }
    lowest().expires_never();
    const auto& req = parser_->get();
    begin_access(&req);
    keep_alive_ = req.keep_alive();
    // An HTTP/1.0 client keeps a connection only when the answer says so:
    // answering in its version makes Beast write `Connection: keep-alive`.
    version_ = req.version() == 10 ? 10 : 11;
    head_only_ = req.method() == http::verb::head;
    auto accepted = accept_request(req, loopback_, opts_, client_cert_name_);
    if (auto* res = std::get_if<http_response>(&accepted))
      return do_write(std::move(*res));
    if (place_.how == admission::probes_only) {
      // Admitted beyond the limits: a probe is answered, then the
      // connection closes; anything else is refused.
      keep_alive_ = false;
      if (!is_probe_path(std::get<http_request>(accepted).path))
        return do_write(error_response(503, "too many connections"));
    }
    if (auto own = answer_probe(std::get<http_request>(accepted).path, opts_))
      return do_write(std::move(*own));
    waiting_ = true;
    ++request_id_;
    // The wait for room in the budget counts toward the handler timeout:
    // the client waits either way.
    timer_.expires_after(opts_.handler_timeout);
    timer_.async_wait([self = this->shared_from_this(),
                       id = request_id_](beast::error_code ec) {
      if (ec || id != self->request_id_ || !self->waiting_)
        return;
      self->waiting_ = false;
      // A late answer is dropped; its room is free now.
      self->give_back_answer();
      self->do_write(error_response(504, "the request timed out"));
    });
    pending_ = std::move(std::get<http_request>(accepted));
    budget_.acquire([self = this->shared_from_this(), id = request_id_] {
      net::post(self->stream_.get_executor(),
                [self, id] { self->on_admitted(id); });
    });
  }

  /// The budget has room for this request's answer: hand it to the handler.
  void on_admitted(uint64_t id) {
    holds_answer_ = true;
    if (id != request_id_ || !waiting_ || !pending_)
      return give_back_answer(); // timed out while it waited
    auto req = std::move(*pending_);
    pending_.reset();
    handler_(std::move(req),
             std::make_shared<session_responder>(this->shared_from_this(),
                                                 request_id_));
  }

  /// The answer of this connection no longer counts against the budget.
  void give_back_answer() {
    if (!std::exchange(holds_answer_, false))
      return;
    budget_.release(std::exchange(held_bytes_, 0));
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
    lowest().expires_after(opts_.read_timeout);
    if (head_only_) {
      http::async_write_header(
        stream_, *sr,
        [self = this->shared_from_this(), sp,
         sr](beast::error_code ec, size_t) { self->on_write(ec); });
      return;
    }
    write_some(std::move(sp), std::move(sr));
  }

  // The deadline is per progress, not per answer: a slow reader of a large
  // page gets all of it as long as it keeps taking bytes.
  void
  write_some(std::shared_ptr<http::response<http::string_body>> sp,
             std::shared_ptr<http::response_serializer<http::string_body>> sr) {
    lowest().expires_after(opts_.read_timeout);
    auto& serializer = *sr;
    http::async_write_some(
      stream_, serializer,
      [self = this->shared_from_this(), sp = std::move(sp),
       sr = std::move(sr)](beast::error_code ec, size_t) mutable {
        if (ec || sr->is_done())
          return self->on_write(ec);
        self->write_some(std::move(sp), std::move(sr));
      });
  }

  void on_write(beast::error_code ec) {
    give_back_answer();
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
    timer_.cancel();
    if constexpr (is_tls) {
      if (secured_) {
        secured_ = false;
        lowest().expires_after(tls_shutdown_timeout);
        stream_.async_shutdown([self = this->shared_from_this()](
                                 beast::error_code) { self->close_socket(); });
        return;
      }
    }
    close_socket();
  }

  void close_socket() {
    beast::error_code ec;
    timer_.cancel();
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().close();
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

  /// Declared before the stream, which refers to it.
  std::shared_ptr<ssl::context> context_;
  Stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  const server_options& opts_;
  const request_handler& handler_;
  connection_book& book_;
  answer_budget& budget_;
  /// The request read and waiting for room in `budget_`.
  std::optional<http_request> pending_;
  /// This connection's request was admitted by `budget_` and not released.
  bool holds_answer_ = false;
  /// The bytes of its answer counted in `budget_`.
  size_t held_bytes_ = 0;
  /// This connection's place in `book_` (id 0: refused, holds none).
  connection_place place_;
  /// The client connected from a loopback address (admin endpoints).
  bool loopback_;
  bool keep_alive_ = true;
  /// HTTP version of the answer: the request's (1.0 or 1.1).
  unsigned version_ = 11;
  bool head_only_ = false;
  bool waiting_ = false;
  /// The TLS handshake completed (a close sends close_notify).
  bool secured_ = false;
  /// The common name of the client certificate the handshake verified
  /// (with `server_options::proxy` only; "" for none).
  std::string client_cert_name_;
  uint64_t request_id_ = 0;
  /// The client's address, for the access log.
  std::string remote_;
  /// The access log entry of the request being answered, and when its head
  /// had been read.
  access_entry access_;
  std::chrono::steady_clock::time_point started_;
};

} // namespace kws::rest::detail
