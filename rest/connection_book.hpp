// Who may hold how many of the server's connections: a cap for everyone, a
// smaller one per client address, and a reserve that only health probes
// may use, so one client holding idle connections cannot starve the rest or
// fail the kubelet's probes.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kws::rest {

/// How a new connection is served.
enum class admission {
  /// Any request.
  full,
  /// Only `/health`, `/livez` and `/readyz`; anything else gets 503.
  probes_only,
  /// 503 without reading a request.
  refused,
};

/// The limits `connection_book` enforces.
struct connection_limits {
  /// Connections served in full, from all clients together.
  size_t total = 512;
  /// Connections served in full from one client address.
  size_t per_client = 64;
  /// Connections beyond those limits that may still ask for a probe.
  size_t probe_reserve = 32;
  /// Of those, the ones one client address may hold: a client that fills
  /// its own share leaves the kubelet's.
  size_t probe_reserve_per_client = 4;
};

/// Counts open connections by client address. Thread-safe: connections
/// open and close on any of the server's threads.
class connection_book {
public:
  explicit connection_book(connection_limits limits) : limits_(limits) {}

  /// Records a new connection from `client` and says how to serve it. Each
  /// call is paired with one `close` with the same arguments.
  admission open(const std::string& client);

  /// Forgets a connection `open` admitted as `how`.
  void close(const std::string& client, admission how);

  /// Connections served in full, from everyone and from `client`.
  size_t full() const;
  size_t full_from(std::string_view client) const;

private:
  connection_limits limits_;
  mutable std::mutex mtx_;
  size_t full_ = 0;
  size_t probes_only_ = 0;
  std::unordered_map<std::string, size_t> full_by_client_;
  std::unordered_map<std::string, size_t> probes_by_client_;
};

/// True for the paths of the kubelet's probes.
bool is_probe_path(std::string_view path);

} // namespace kws::rest
