// Streaming requests (watches): credentials → a fresh connection → write →
// read the header. A 2xx hands a `body_stream` to the caller, which pulls
// the body piece by piece; nothing is read between pieces, which is the
// back-pressure path to the apiserver.
#include "kube/client_impl.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace kws::kube {

body_stream::~body_stream() = default;

namespace {

/// Limit of an error body read from a stream.
constexpr size_t max_error_body = 1 << 20;

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

} // namespace

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

} // namespace kws::kube
