// Who may hold how many of the server's connections: a cap for everyone, a
// smaller one per client address, and a reserve that only health probes
// may use, so one client holding idle connections cannot starve the rest or
// fail the kubelet's probes. When the book is full, a new connection takes
// the place of an idle one of the client holding the most, so many clients
// together cannot either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
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

/// A connection's place in the book: `open` hands it out, `close` gives it
/// back. Refused connections hold none (`id` 0).
struct connection_place {
  uint64_t id = 0;
  admission how = admission::refused;
};

/// What the book holds now.
struct connection_counts {
  size_t full = 0;
  size_t probes_only = 0;
  /// Of those, the ones waiting for a request (`idle`).
  size_t idle = 0;
  /// Connections closed to make room since the book was made.
  uint64_t evicted = 0;
};

/// Counts open connections by client address and decides which idle one
/// gives way when the book is full. Thread-safe: connections open, idle and
/// close on any of the server's threads. It knows no sockets: a connection
/// hands it a function that closes it.
class connection_book {
public:
  /// Closes an evicted connection; called once, on the thread of the
  /// `open` that evicted it, outside the book's lock: it must not block.
  /// The book may destroy it under its lock: it must not own the
  /// connection (whose end calls `close`).
  using evict_fn = std::function<void()>;

  explicit connection_book(connection_limits limits) : limits_(limits) {}

  /// Records a new connection from `client` and says how to serve it. When
  /// it would be refused or served probes only because the book is full (not
  /// because `client` is over its own share), an idle connection gives way:
  /// one of the client address holding the most connections, the one idle
  /// longest first. Each place is given back with one `close`.
  connection_place open(const std::string& client);

  /// The connection waits for a request's first byte (a new one, or one
  /// kept alive between requests): it may be evicted from now on, by
  /// calling `evict`.
  void idle(uint64_t id, evict_fn evict);

  /// The connection received a byte of a request: it is no longer evicted.
  /// @returns false when it was evicted already (its place is gone; it must
  /// close).
  bool busy(uint64_t id);

  /// Gives back a place (nothing when it was evicted or refused).
  void close(uint64_t id);

  /// Connections served in full, from everyone and from `client`.
  size_t full() const;
  size_t full_from(std::string_view client) const;

  /// Everything counted now.
  connection_counts counts() const;

private:
  /// One open connection.
  struct entry {
    std::string client;
    admission how = admission::full;
    /// When it went idle (order of `idle` calls); 0 while busy.
    uint64_t idle_since = 0;
    evict_fn evict;
  };

  /// The connections of one client address.
  struct client_entry {
    size_t full = 0;
    size_t probes = 0;
    /// Idle connections by `idle_since`, of each admission.
    std::map<uint64_t, uint64_t> idle_full;
    std::map<uint64_t, uint64_t> idle_probes;
  };

  /// Takes an idle connection of admission `how` out of the book, from the
  /// client holding the most connections, into `out` (its close function).
  /// @returns false when none is idle. Requires `mtx_`.
  bool evict_one(admission how, evict_fn& out);

  /// Forgets `id` (its counts and idle entry). Requires `mtx_`.
  void forget(std::unordered_map<uint64_t, entry>::iterator it);

  connection_limits limits_;
  mutable std::mutex mtx_;
  size_t full_ = 0;
  size_t probes_only_ = 0;
  size_t idle_ = 0;
  uint64_t evicted_ = 0;
  uint64_t next_id_ = 0;
  uint64_t next_idle_ = 0;
  std::unordered_map<uint64_t, entry> entries_;
  std::unordered_map<std::string, client_entry> clients_;
};

} // namespace kws::rest
