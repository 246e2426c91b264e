// The certificate and key the REST listener serves TLS with. They are read
// again when their files change, because cert-manager and kubelet rotate a
// mounted Secret in place: a new certificate needs no restart.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <caf/expected.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace kws::rest {

/// Where the PEM files are (`tls.certFile`, `tls.keyFile`).
struct tls_files {
  /// The certificate, followed by its intermediates.
  std::string cert_file;
  std::string key_file;
  /// CAs whose client certificates are asked for and verified
  /// (`auth.proxy.clientCAFile`); "" asks for none.
  std::string client_ca_file = {};
};

/// A server context for TLS 1.2 and 1.3 from PEM texts; an error names the
/// setting whose file is wrong (`tls.certFile`, `tls.keyFile` or
/// `auth.proxy.clientCAFile`), also when the key does not belong to the
/// certificate. With `client_ca_pem`, a client may present a certificate,
/// which must verify against those CAs; one without is served too.
caf::expected<std::shared_ptr<boost::asio::ssl::context>>
make_server_context(const std::string& cert_pem, const std::string& key_pem,
                    const std::string& client_ca_pem = {});

/// Hands each new connection the context of the newest good pair of files.
/// Thread-safe.
class tls_source {
public:
  /// Reads and checks both files; fails when they do not make a context.
  /// @param check_interval the files are read again at most this often.
  static caf::expected<std::shared_ptr<tls_source>>
  load(tls_files files,
       std::chrono::milliseconds check_interval = std::chrono::seconds{1});

  /// The context for a new connection. When `check_interval` passed since
  /// the files were last read and their bytes changed, they are loaded
  /// first; a pair that does not load (a rotation half done, a key of
  /// another certificate) keeps the previous context and is logged once.
  std::shared_ptr<boost::asio::ssl::context> current();

  /// Changed pairs loaded since the start.
  uint64_t reloads() const { return reloads_; }

  /// Changed pairs that did not load.
  uint64_t failures() const { return failures_; }

  tls_source(tls_files files, std::chrono::milliseconds check_interval);

private:
  /// Reads the files; false when one cannot be read.
  bool read(std::string& cert, std::string& key, std::string& ca) const;

  const tls_files files_;
  const std::chrono::milliseconds check_interval_;
  std::mutex mtx_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  /// The bytes of the pair last read, good or not: a bad pair is tried once.
  std::string cert_pem_;
  std::string key_pem_;
  std::string client_ca_pem_;
  std::chrono::steady_clock::time_point checked_;
  std::atomic<uint64_t> reloads_ = 0;
  std::atomic<uint64_t> failures_ = 0;
};

} // namespace kws::rest
