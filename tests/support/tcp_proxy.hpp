// A TCP proxy on loopback that can hold back the answers of its target, to
// make "the apiserver has not answered yet" a state a test controls.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace kws::test {

/// Forwards connections to 127.0.0.1:`target_port` byte for byte (TLS passes
/// through untouched). While held, nothing the target sends reaches the
/// client; `release` lets everything through from then on.
class tcp_proxy {
public:
  tcp_proxy(uint16_t target_port, bool hold);
  ~tcp_proxy();

  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  /// The port it listens on (127.0.0.1); 0 when it could not listen.
  uint16_t port() const { return port_; }

  /// Forwards the target's answers, also the ones held so far.
  void release();

  /// Connections accepted so far.
  size_t connections() const { return num_connections_; }

private:
  void accept_loop();
  void pump(int from, int to, bool from_target);

  uint16_t target_port_;
  uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> num_connections_{0};
  std::mutex mtx_;
  std::condition_variable released_cv_;
  bool held_;
  std::vector<int> sockets_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

} // namespace kws::test
