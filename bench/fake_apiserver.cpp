// One session per connection: TLS handshake, then requests. A list is
// answered and the connection stays open for the next request; a watch
// keeps the connection and streams one HTTP chunk per event (as the
// apiserver flushes each event), paced by the rate, until the client goes
// away or its timeoutSeconds ends the stream with the last chunk.
#include "bench/fake_apiserver.hpp"

#include "bench/stamps.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>

namespace kws::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// -- certificate --------------------------------------------------------------

namespace {

[[noreturn]] void openssl_failed(const char* what) {
  throw std::runtime_error(std::string{"OpenSSL: "} + what);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio, &data);
  return {data, static_cast<size_t>(n)};
}

} // namespace

tls_identity make_self_signed() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_EC_gen("P-256"),
                                                          EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> cert{X509_new(), X509_free};
  if (!key || !cert)
    openssl_failed("cannot create a key");
  auto* x = cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x),
                   static_cast<long>(std::random_device{}() & 0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), long{2} * 86400);
  X509_set_pubkey(x, key.get());
  auto* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(
    name, "CN", MBSTRING_ASC,
    reinterpret_cast<const unsigned char*>("kws-bench-apiserver"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  // Its own CA, and valid for the address the client dials.
  std::pair<int, const char*> exts[] = {
    {NID_basic_constraints, "critical,CA:TRUE"},
    {NID_key_usage, "critical,digitalSignature,keyCertSign"},
    {NID_subject_key_identifier, "hash"},
    {NID_subject_alt_name, "IP:127.0.0.1"},
  };
  for (auto [nid, value] : exts) {
    auto* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr || X509_add_ext(x, ext, -1) != 1)
      openssl_failed("cannot add a certificate extension");
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, key.get(), EVP_sha256()) == 0)
    openssl_failed("cannot sign the certificate");
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio{BIO_new(BIO_s_mem()),
                                                     BIO_free};
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio{BIO_new(BIO_s_mem()),
                                                    BIO_free};
  if (PEM_write_bio_X509(cert_bio.get(), x) != 1
      || PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0,
                                  nullptr, nullptr)
        != 1)
    openssl_failed("cannot write PEM");
  return {bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

// -- server -------------------------------------------------------------------

namespace {

/// A chunk of one event line is written when the batch stays below this.
constexpr size_t max_write_bytes = size_t{64} * 1024;

struct server_state {
  server_state(const pod_stream& pods, const apiserver_options& opts)
      : pods{pods}, opts{opts}, stamps{stamp_file::open(opts.stamps_path)} {}

  const pod_stream& pods;
  const apiserver_options& opts;
  stamp_file stamps;
  ssl::context tls{ssl::context::tls_server};
  /// SIGUSR1: no further events.
  bool stop_sending = false;
  /// Origin of the fixed-rate schedule: when the first watch began.
  int64_t t0_ns = 0;

  int64_t due_ns(uint64_t i) const {
    return t0_ns
      + static_cast<int64_t>(static_cast<double>(i) * 1e9 / opts.rate);
  }
};

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> result;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto pair = q.substr(0, amp);
    auto eq = pair.find('=');
    result[std::string{pair.substr(0, eq)}]
      = eq == std::string_view::npos ? "" : std::string{pair.substr(eq + 1)};
    q = amp == std::string_view::npos ? "" : q.substr(amp + 1);
  }
  return result;
}

uint64_t to_u64(const std::string& x, uint64_t fallback) {
  try {
    return x.empty() ? fallback : std::stoull(x);
  } catch (const std::exception&) {
    return fallback;
  }
}

std::string status_body(unsigned code, const char* reason,
                        const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
         R"("status":"Failure","message":")"
    + message + R"(","reason":")" + reason + R"(","code":)"
    + std::to_string(code) + "}";
}

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, server_state& srv)
      : stream_{std::move(socket), srv.tls}, srv_{srv},
        pace_{stream_.get_executor()}, end_{stream_.get_executor()} {}

  void run() {
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (!ec)
                                self->do_read();
                            });
  }

private:
  void do_read() {
    req_ = {};
    http::async_read(stream_, buf_, req_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec)
                         self->on_request();
                     });
  }

  void on_request() {
    std::string_view target = req_.target();
    auto qpos = target.find('?');
    auto path = target.substr(0, qpos);
    auto query = parse_query(
      qpos == std::string_view::npos ? "" : target.substr(qpos + 1));
    if (path != "/api/v1/pods") {
      answer(http::status::not_found,
             status_body(404, "NotFound", "only /api/v1/pods is served"));
      return;
    }
    if (query["watch"] == "1" || query["watch"] == "true")
      start_watch(query);
    else
      answer_list(query);
  }

  void answer_list(std::map<std::string, std::string>& query) {
    const auto& items = srv_.pods.list_items;
    auto offset
      = std::min<uint64_t>(to_u64(query["continue"], 0), items.size());
    auto limit = to_u64(query["limit"], 0);
    auto end = limit == 0 ? items.size()
                          : std::min<uint64_t>(offset + limit, items.size());
    std::string body = R"({"kind":"PodList","apiVersion":"v1","metadata":{)";
    body += R"("resourceVersion":")" + std::to_string(srv_.pods.list_rv) + '"';
    if (end < items.size())
      body += R"(,"continue":")" + std::to_string(end) + '"';
    body += R"(},"items":[)";
    for (auto i = offset; i < end; ++i) {
      if (i > offset)
        body += ',';
      body += items[i];
    }
    body += "]}";
    answer(http::status::ok, std::move(body));
  }

  void answer(http::status status, std::string body) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::content_type, "application/json");
    res->keep_alive(req_.keep_alive());
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(
      stream_, *res,
      [self = shared_from_this(), res](beast::error_code ec, size_t) {
        if (!ec && res->keep_alive())
          self->do_read();
        else
          self->close();
      });
  }

  void start_watch(std::map<std::string, std::string>& query) {
    auto list_rv = srv_.pods.list_rv;
    auto rv = to_u64(query["resourceVersion"], 0);
    if (rv < list_rv) {
      req_.keep_alive(false);
      answer(http::status::gone,
             status_body(410, "Expired",
                         "too old resource version: " + std::to_string(rv)
                           + " (" + std::to_string(list_rv) + ")"));
      return;
    }
    // Event i has resourceVersion list_rv + 1 + i.
    next_ = std::min<uint64_t>(rv - list_rv, srv_.pods.lines.size());
    if (srv_.opts.rate > 0 && srv_.t0_ns == 0)
      srv_.t0_ns = monotonic_ns();
    end_.expires_after(
      std::chrono::seconds{to_u64(query["timeoutSeconds"], 1800)});
    end_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec)
        return;
      self->ending_ = true;
      if (!self->writing_)
        self->finish();
    });
    head_.result(http::status::ok);
    head_.version(11);
    head_.set(http::field::content_type, "application/json");
    head_.set(http::field::cache_control, "no-cache, private");
    head_.chunked(true);
    head_.keep_alive(false);
    head_sr_.emplace(head_);
    http::async_write_header(
      stream_, *head_sr_,
      [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec)
          return self->close();
        self->pump();
      });
  }

  /// Writes the events that are due (all that fit, at rate 0).
  void pump() {
    if (ending_)
      return finish();
    auto& lines = srv_.pods.lines;
    if (srv_.stop_sending || next_ >= lines.size())
      return; // idle until timeoutSeconds
    auto now = monotonic_ns();
    bool paced = srv_.opts.rate > 0;
    if (paced && srv_.due_ns(next_) > now) {
      pace_.expires_at(net::steady_timer::time_point{
        std::chrono::nanoseconds{srv_.due_ns(next_)}});
      pace_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec)
          self->pump();
      });
      return;
    }
    out_.clear();
    auto begin = next_;
    char size[24];
    while (next_ < lines.size() && out_.size() < max_write_bytes
           && (!paced || srv_.due_ns(next_) <= now)) {
      auto& st = srv_.stamps.at(next_);
      int64_t zero = 0;
      st.due_ns.compare_exchange_strong(zero, paced ? srv_.due_ns(next_) : now);
      const auto& line = lines[next_];
      out_.append(size,
                  static_cast<size_t>(
                    std::snprintf(size, sizeof size, "%zx\r\n", line.size())));
      out_ += line;
      out_ += "\r\n";
      ++next_;
    }
    writing_ = true;
    net::async_write(
      stream_, net::buffer(out_),
      [self = shared_from_this(), begin](beast::error_code ec, size_t) {
        self->writing_ = false;
        if (ec)
          return self->close();
        self->on_written(begin);
      });
  }

  void on_written(uint64_t begin) {
    auto now = monotonic_ns();
    for (auto i = begin; i < next_; ++i) {
      int64_t zero = 0;
      srv_.stamps.at(i).sent_ns.compare_exchange_strong(zero, now);
    }
    auto& sent = srv_.stamps.head().sent;
    if (sent.load() < next_)
      sent.store(next_);
    pump();
  }

  /// The watch's timeoutSeconds ended: the last chunk, then close.
  void finish() {
    out_ = "0\r\n\r\n";
    net::async_write(stream_, net::buffer(out_),
                     [self = shared_from_this()](beast::error_code, size_t) {
                       self->close();
                     });
  }

  void close() {
    pace_.cancel();
    end_.cancel();
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

  ssl::stream<beast::tcp_stream> stream_;
  server_state& srv_;
  net::steady_timer pace_;
  net::steady_timer end_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::empty_body> head_;
  std::optional<http::response_serializer<http::empty_body>> head_sr_;
  std::string out_;
  uint64_t next_ = 0;
  bool writing_ = false;
  bool ending_ = false;
};

void accept(tcp::acceptor& acceptor, server_state& srv) {
  acceptor.async_accept(
    [&acceptor, &srv](beast::error_code ec, tcp::socket socket) {
      if (ec)
        return;
      // Go's net/http sets TCP_NODELAY, so each event leaves at once.
      socket.set_option(tcp::no_delay{true}, ec);
      std::make_shared<session>(std::move(socket), srv)->run();
      accept(acceptor, srv);
    });
}

} // namespace

int serve_apiserver(const pod_stream& pods, const apiserver_options& opts) {
  net::io_context ioc{1};
  server_state srv{pods, opts};
  srv.tls.use_certificate_chain(net::buffer(opts.identity.cert_pem));
  srv.tls.use_private_key(net::buffer(opts.identity.key_pem),
                          ssl::context::pem);
  tcp::acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), 0}};
  net::signal_set signals{ioc, SIGTERM, SIGINT, SIGUSR1};
  std::function<void(beast::error_code, int)> on_signal
    = [&](beast::error_code ec, int sig) {
        if (ec)
          return;
        if (sig != SIGUSR1) {
          ioc.stop();
          return;
        }
        srv.stop_sending = true;
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  accept(acceptor, srv);
  std::printf("port %u\n",
              static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  ioc.run();
  return 0;
}

} // namespace kws::bench
