// A small blocking HTTP/1.1 client for tests on loopback.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace kws::test {

struct http_result {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

/// Sends `method target` to 127.0.0.1:port with optional extra headers and
/// body and returns the answer; status 0 when the connection failed or
/// closed.
http_result http_call(uint16_t port, const std::string& method,
                      const std::string& target,
                      const std::map<std::string, std::string>& headers = {},
                      const std::string& body = {});

inline http_result http_get(uint16_t port, const std::string& target) {
  return http_call(port, "GET", target);
}

} // namespace kws::test
