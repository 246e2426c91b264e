// The MCP endpoint as pure code: one POST /mcp in, either its answer or the
// REST queries a tool needs and how to turn their answers into the reply.
// Both protocol eras are served from the same endpoint without session
// state: a request whose params carry the modern `_meta` is the stateless
// 2026-07-28 revision, anything else the legacy initialize-first exchange.
// Tools ask the same REST paths a client would (so they share validation,
// limits and paging); the HTTP handler runs those queries.
#pragma once

#include "messages/http.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace kws::mcp {

/// What the endpoint accepts and says about itself.
struct options {
  /// `Host` values (without port) accepted besides IP literals and
  /// loopback names; a request naming another host is refused (403), which
  /// defeats DNS rebinding.
  std::vector<std::string> allowed_hosts;
  /// `Origin` values accepted besides loopback origins; a request with
  /// another Origin is refused (403). Requests without Origin pass.
  std::vector<std::string> allowed_origins;
  /// serverInfo.version.
  std::string version = "0.0.0";
  /// Items a listing tool returns when the call names no `limit`.
  uint32_t default_items = 50;
  /// Longest text block of a tool result, in bytes (about 4 per token).
  size_t max_text_bytes = 32'000;
  /// A hub's clusters (empty on a server): every tool then takes a
  /// `cluster` argument, which its queries carry as `cluster=`.
  std::vector<std::string> clusters = {};
};

/// REST queries to run, and how to answer once all are answered.
struct pending_call {
  /// GET requests for the REST API, answered in any order.
  std::vector<http_request> queries;
  /// Builds the HTTP answer from the queries' answers, in `queries`' order.
  std::function<http_response(const std::vector<http_response>&)> finish;
};

/// The answer to a POST /mcp, or the queries that lead to it.
using outcome = std::variant<http_response, pending_call>;

/// Handles one HTTP request to the MCP endpoint at time `now_ns`.
outcome handle(const http_request& req, const options& opts, int64_t now_ns);

/// The protocol versions served, newest first.
const std::vector<std::string>& legacy_versions();
inline constexpr const char* modern_version = "2026-07-28";

} // namespace kws::mcp
