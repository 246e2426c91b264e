#include "tests/support/tcp_proxy.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

namespace kws::test {

tcp_proxy::tcp_proxy(uint16_t target_port, bool hold)
    : target_port_{target_port}, held_{hold} {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || ::listen(listener_, 64) != 0)
    return;
  socklen_t len = sizeof(addr);
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread{[this] { accept_loop(); }};
}

tcp_proxy::~tcp_proxy() {
  stopping_ = true;
  {
    std::lock_guard guard{mtx_};
    for (int fd : sockets_)
      ::shutdown(fd, SHUT_RDWR);
  }
  released_cv_.notify_all();
  if (acceptor_.joinable())
    acceptor_.join();
  for (auto& t : threads_)
    t.join();
  for (int fd : sockets_)
    ::close(fd);
  if (listener_ >= 0)
    ::close(listener_);
}

void tcp_proxy::release() {
  {
    std::lock_guard guard{mtx_};
    held_ = false;
  }
  released_cv_.notify_all();
}

void tcp_proxy::accept_loop() {
  while (!stopping_) {
    pollfd pfd{listener_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0)
      continue;
    int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0)
      continue;
    int target = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(target_port_);
    if (::connect(target, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
        != 0) {
      ::close(target);
      ::close(client);
      continue;
    }
    ++num_connections_;
    std::lock_guard guard{mtx_};
    if (stopping_) {
      ::close(target);
      ::close(client);
      return;
    }
    sockets_.push_back(client);
    sockets_.push_back(target);
    threads_.emplace_back(
      [this, client, target] { pump(client, target, false); });
    threads_.emplace_back(
      [this, client, target] { pump(target, client, true); });
  }
}

void tcp_proxy::pump(int from, int to, bool from_target) {
  std::array<char, 16384> buf;
  for (;;) {
    auto n = ::read(from, buf.data(), buf.size());
    if (n <= 0)
      break;
    if (from_target) {
      std::unique_lock guard{mtx_};
      released_cv_.wait(guard, [this] { return !held_ || stopping_; });
      if (stopping_)
        break;
    }
    ssize_t sent = 0;
    while (sent < n) {
      // MSG_NOSIGNAL: a peer that hung up must not kill the test with SIGPIPE.
      auto m = ::send(to, buf.data() + sent, static_cast<size_t>(n - sent),
                      MSG_NOSIGNAL);
      if (m <= 0)
        break;
      sent += m;
    }
    if (sent < n)
      break;
  }
  // Half-close so the peer sees the end; the other pump ends on its own.
  ::shutdown(to, SHUT_WR);
  ::shutdown(from, SHUT_RD);
}

} // namespace kws::test
