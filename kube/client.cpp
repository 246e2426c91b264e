// The client's life: make() builds the TLS context and starts the one io
// thread, stop() closes everything it registered and joins the thread. Also
// the small io-thread services (schedule, post) the reflector runs on.
// Connecting, credentials, short requests and streams live in the
// client_*.cpp files next to this one.
#include "kube/client.hpp"

#include "kube/client_impl.hpp"
#include "util/logging.hpp"
#include "util/thread_name.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

namespace kws::kube {

scheduled_call::~scheduled_call() = default;

namespace {

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
    name_this_thread("kws.kube-io");
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
