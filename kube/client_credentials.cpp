// The bearer token of every request, cached per client: a token file is
// re-read every minute and after a 401, an exec plugin's credential is kept
// until its expiry; a new client certificate from the plugin swaps the TLS
// context. Runs on the io thread, except the plugin itself.
#include "kube/client_impl.hpp"
#include "kube/credentials.hpp"
#include "util/logging.hpp"

#include <boost/asio/post.hpp>

namespace kws::kube {

namespace {

/// client-go re-reads token files every minute.
constexpr auto token_file_period = std::chrono::minutes{1};

/// Refresh exec credentials this long before they expire.
constexpr auto exec_expiry_leeway = std::chrono::seconds{10};

} // namespace

void client::impl::with_token(
  bool force, const std::string& used,
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

void client::impl::run_exec() {
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

void client::impl::on_exec_done(caf::expected<exec_credential> result) {
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
    auto ctx
      = make_ssl_context(cfg, result->client_cert_pem, result->client_key_pem);
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

} // namespace kws::kube
