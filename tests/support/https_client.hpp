// A small blocking HTTPS client for tests on loopback: it trusts only the
// certificate it is given and checks that it names `localhost`.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace kws::test {

/// What one HTTPS request saw.
struct https_result {
  int status = 0;
  std::string body;
  /// The common name of the certificate the server presented.
  std::string peer_name;
  /// Why the request failed ("" when it did not).
  std::string error;
};

/// `method target` to 127.0.0.1:port over TLS, trusting only `trusted_pem`.
https_result https_call(uint16_t port, const std::string& trusted_pem,
                        const std::string& method, const std::string& target,
                        const std::map<std::string, std::string>& headers = {});

} // namespace kws::test
