// The stdio transport as a relay: each line from the assistant becomes a
// POST to a running server's /mcp with the headers the HTTP transport needs
// (which a stdio client never sends), and each answer one line back. Pure:
// app/mcp_stdio.cpp does the I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace kws::mcp {

/// What the relay remembers between lines: the legacy era's negotiated
/// version, sent as MCP-Protocol-Version on every later request.
struct relay_state {
  std::string legacy_version;
};

/// The HTTP headers to send with `line`.
std::map<std::string, std::string> relay_headers(std::string_view line,
                                                 const relay_state& state);

/// Learns from an answer (the version an `initialize` negotiated) and
/// returns the line to write: the body as one line, or nothing for a 202.
std::optional<std::string> relay_answer(std::string_view request_line,
                                        int status, std::string_view body,
                                        relay_state& state);

/// The JSON-RPC error line for a request that could not be relayed
/// (nothing for a notification).
std::optional<std::string> relay_failure(std::string_view request_line,
                                         std::string_view why);

} // namespace kws::mcp
