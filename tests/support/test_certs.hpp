// Self-signed certificates made in memory, so TLS tests need no files from
// elsewhere and no openssl command.
#pragma once

#include <string>

namespace kws::test {

/// A PEM certificate and its PEM private key (EC P-256).
struct test_cert {
  std::string cert_pem;
  std::string key_pem;
};

/// A self-signed certificate for `localhost` and 127.0.0.1 whose subject's
/// common name is `common_name`, valid from an hour ago for a day; it is its
/// own trust anchor.
test_cert make_test_cert(const std::string& common_name);

/// A client certificate (extended key usage clientAuth) whose subject's
/// common name is `common_name`, signed by `ca` (one `make_test_cert` made).
test_cert make_client_cert(const test_cert& ca, const std::string& common_name);

/// Writes `text` to `path` (replacing it); throws when it cannot.
void write_text(const std::string& path, const std::string& text);

} // namespace kws::test
