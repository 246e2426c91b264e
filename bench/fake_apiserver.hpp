// A minimal kube-apiserver for one resource type (pods) over HTTPS on
// 127.0.0.1, for the real-path benchmark: it answers the (paged) list and
// the watch, streaming a generated `pod_stream` as chunked JSON lines at a
// fixed rate or as fast as the client reads, and stamps when each event was
// written (bench/stamps.hpp). It runs in its own process, so neither its
// memory nor its generator counts against the service.
#pragma once

#include "bench/pod_stream.hpp"

#include <string>

namespace kws::bench {

/// A key and a self-signed certificate for 127.0.0.1 (PEM).
struct tls_identity {
  std::string cert_pem;
  std::string key_pem;
};

/// Generates a fresh P-256 key and a certificate for IP 127.0.0.1 that is
/// its own CA, so the client verifies the server as it would a cluster's.
/// Throws `std::runtime_error` on an OpenSSL failure.
tls_identity make_self_signed();

/// How the apiserver serves the stream.
struct apiserver_options {
  tls_identity identity;
  /// Events per second; 0 writes as fast as the client reads.
  double rate = 0;
  /// The stamp file, created by the measuring process.
  std::string stamps_path;
};

/// Listens on 127.0.0.1 (a free port), writes "port N\n" to stdout, and
/// serves until SIGTERM. SIGUSR1 stops writing further events (open watches
/// stay open, as with an idle cluster). Returns the process's exit code.
int serve_apiserver(const pod_stream& pods, const apiserver_options& opts);

} // namespace kws::bench
