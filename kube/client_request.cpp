// One short request through the keep-alive pool: acquire a slot (bounded
// concurrency) → credentials → idle pooled connection or a new one → write
// → read (idle timeout per read) → back to the pool on keep-alive. A reused
// connection that fails before any response byte is stale: retry once on a
// fresh one. A 401 is retried once with refreshed credentials.
#include "kube/client_impl.hpp"
#include "kube/wire.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

namespace kws::kube {

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
    if (!self->idle.empty() && !stale_retried) {
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

} // namespace kws::kube
