// A small blocking HTTPS client for tests on loopback: it trusts only the
// certificate it is given and checks that it names `localhost`.
#pragma once

#include "tests/support/test_certs.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

/// Headers in order; a name may repeat.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// `method target` to 127.0.0.1:port over TLS, trusting only `trusted_pem`;
/// presenting `client`'s certificate when given, sending `body` when not
/// empty.
https_result https_call(uint16_t port, const std::string& trusted_pem,
                        const std::string& method, const std::string& target,
                        const header_list& headers = {},
                        const test_cert* client = nullptr,
                        const std::string& body = {});

} // namespace kws::test
