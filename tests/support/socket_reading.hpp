// Reading a raw socket until the server closes it, with a limit, for tests
// of how the server treats its connections.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <string>

namespace kws::test {

/// What a client read until the server closed the connection, or until
/// the time given ran out (`eof` false): a test that goes wrong fails
/// instead of waiting forever (asio's blocking reads ignore SO_RCVTIMEO).
struct reading {
  std::string data;
  bool eof = false;
};

inline reading read_until_closed(boost::asio::ip::tcp::socket& sock,
                                 std::chrono::milliseconds limit
                                 = std::chrono::seconds{10}) {
  reading result;
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    pollfd p{sock.native_handle(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return result;
    std::array<char, 4096> buf;
    auto n = ::recv(sock.native_handle(), buf.data(), buf.size(), 0);
    if (n <= 0) {
      result.eof = n == 0;
      return result;
    }
    result.data.append(buf.data(), static_cast<size_t>(n));
  }
}

} // namespace kws::test
