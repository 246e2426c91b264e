// The shared state of a client that is neither connecting nor credentials:
// the registry that stop() closes, the bounded request slots, and the HTTP
// request and response details both short requests and streams use.
#include "kube/client_impl.hpp"

#include "util/logging.hpp"

#include <boost/asio/post.hpp>

namespace kws::kube {

client::impl::~impl() {
  // Connections unregister themselves: drop them while the registry lives.
  idle.clear();
  if (thread.joinable()) {
    if (on_io_thread())
      thread.detach();
    else
      thread.join();
  }
}

uint64_t client::impl::enroll(const std::shared_ptr<closable>& x) {
  std::lock_guard guard{registry_mtx};
  auto id = ++next_id;
  registry.emplace(id, x);
  return id;
}

void client::impl::withdraw(uint64_t id) {
  std::lock_guard guard{registry_mtx};
  registry.erase(id);
}

void client::impl::close_all() {
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

// -- slots --------------------------------------------------------------------

void client::impl::acquire_slot(std::function<void()> f) {
  if (active < opts.max_concurrent_requests) {
    ++active;
    f();
  } else {
    waiting.push_back(std::move(f));
  }
}

void client::impl::release_slot() {
  --active;
  if (!waiting.empty() && !stopped) {
    auto f = std::move(waiting.front());
    waiting.pop_front();
    ++active;
    asio::post(ioc, std::move(f));
  }
}

// -- HTTP details -------------------------------------------------------------

void client::impl::log_warnings(const http::fields& fields) {
  for (auto i = fields.find(http::field::warning);
       i != fields.end() && i->name() == http::field::warning; ++i) {
    auto text = std::string{i->value()};
    if (warnings_seen.size() < 1000 && warnings_seen.insert(text).second)
      KWS_WARN("kube client got a warning from {}: {}", authority, text);
  }
}

http::request<http::string_body>
client::impl::make_request(const std::string& method, const std::string& target,
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

} // namespace kws::kube
