#include "rest/server.hpp"

#include "rest/connection_book.hpp"
#include "rest/render.hpp"
#include "rest/session.hpp"
#include "rest/tls_source.hpp"
#include "util/errors.hpp"
#include "util/logging.hpp"
#include "util/thread_name.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>

#include <memory>
#include <thread>
#include <vector>

namespace kws::rest {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

http_response error_response(uint16_t status, std::string_view message,
                             std::string_view parameter) {
  http_response result;
  result.status = status;
  result.body = render_error_body(message, parameter);
  return result;
}

namespace {

using detail::plain_stream;
using detail::session;
using detail::tls_stream;

/// What every connection of one server shares.
struct connection_context {
  const server_options& opts;
  const request_handler& handler;
  connection_book& book;
  answer_budget& budget;
};

/// Starts a session of `Stream` on `stream`, or answers `refusal` on it.
template <class Stream>
void open_session(const connection_context& cc, beast::tcp_stream&& stream,
                  beast::flat_buffer&& buffer,
                  std::shared_ptr<ssl::context> context, std::string client,
                  bool loopback, connection_place place,
                  std::optional<http_response> refusal) {
  auto s = std::make_shared<session<Stream>>(
    std::move(stream), std::move(buffer), std::move(context), cc.opts,
    cc.handler, cc.book, cc.budget, std::move(client), loopback, place);
  if (refusal)
    s->reject(std::move(*refusal));
  else
    s->run();
}

/// The first bytes of a connection to a TLS listener decide what it is: a
/// handshake goes on as TLS; plain HTTP is served to loopback clients (the
/// `backup` command and probes inside the pod, `kubectl port-forward`) and
/// told to use https by anyone else.
class tls_detector : public std::enable_shared_from_this<tls_detector> {
public:
  tls_detector(const connection_context& cc, tcp::socket&& socket,
               std::shared_ptr<ssl::context> context, std::string client,
               bool loopback, connection_place place)
      : cc_{cc}, stream_{std::move(socket)}, context_{std::move(context)},
        client_{std::move(client)}, loopback_{loopback}, place_{place} {}

  ~tls_detector() {
    if (!handed_over_)
      cc_.book.close(place_.id);
  }

  tls_detector(const tls_detector&) = delete;
  tls_detector& operator=(const tls_detector&) = delete;

  void run() {
    stream_.expires_after(cc_.opts.head_timeout);
    beast::async_detect_ssl(
      stream_, buffer_,
      beast::bind_front_handler(&tls_detector::on_detect, shared_from_this()));
  }

private:
  void on_detect(beast::error_code ec, bool tls) {
    if (ec) {
      stream_.close();
      return;
    }
    handed_over_ = true;
    std::optional<http_response> refusal;
    if (place_.how == admission::refused)
      refusal = error_response(503, "too many connections");
    if (tls)
      return open_session<tls_stream>(
        cc_, std::move(stream_), std::move(buffer_), context_,
        std::move(client_), loopback_, place_, std::move(refusal));
    if (!(loopback_ && cc_.opts.tls_plain_loopback) && !refusal)
      refusal
        = error_response(400, "this port speaks TLS: use https:// to reach it");
    open_session<plain_stream>(cc_, std::move(stream_), std::move(buffer_),
                               nullptr, std::move(client_), loopback_, place_,
                               std::move(refusal));
  }

  const connection_context& cc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ssl::context> context_;
  std::string client_;
  bool loopback_;
  connection_place place_;
  /// A session took over the stream and the connection's place in `book`.
  bool handed_over_ = false;
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
      // Before the TLS detection, a connection is not idle: it is bounded
      // by the head timeout instead.
      auto place = book.open(client);
      if (opts.tls) {
        std::make_shared<tls_detector>(cc, std::move(socket),
                                       opts.tls->current(), std::move(client),
                                       loopback, place)
          ->run();
      } else {
        std::optional<http_response> refusal;
        if (place.how == admission::refused)
          refusal = error_response(503, "too many connections");
        open_session<plain_stream>(
          cc, beast::tcp_stream{std::move(socket)}, beast::flat_buffer{},
          nullptr, std::move(client), loopback, place, std::move(refusal));
      }
    }
    do_accept();
  }

  // Sessions refer to these, so they outlive the io_context.
  server_options opts;
  request_handler handler;
  connection_book book{connection_limits{
    opts.max_connections, opts.max_connections_per_client, opts.probe_reserve}};
  answer_budget budget{opts.answers};
  connection_context cc{opts, handler, book, budget};
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
    ptr->threads.emplace_back([p = ptr.get()] {
      name_this_thread("kws.http");
      p->ioc.run();
    });
  return std::unique_ptr<server>{new server(std::move(ptr))};
}

uint16_t server::port() const {
  return impl_->bound_port;
}

connection_counts server::connections() const {
  return impl_->book.counts();
}

size_t server::requests_waiting() const {
  return impl_->budget.waiting();
}

void server::stop() {
  if (!impl_ || impl_->threads.empty())
    return;
  net::post(impl_->acceptor.get_executor(), [p = impl_.get()] {
    beast::error_code ec;
    p->acceptor.close(ec);
  });
  // Nothing waiting starts any more; sessions waiting for a handler hold no
  // pending I/O; stopping the context drops them with their sockets.
  impl_->budget.close();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable())
      t.join();
  impl_->threads.clear();
}

} // namespace kws::rest
