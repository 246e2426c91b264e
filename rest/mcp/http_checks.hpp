// Transport checks of the MCP endpoint that need no JSON: which Host and
// Origin values are served (DNS-rebinding protection) and the RFC 2047-style
// `=?base64?...?=` form of MCP header values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kws::mcp {

/// The host part `s` of a Host header or an Origin ("http://h:1" → "h",
/// "[::1]:8080" → "::1"), lower case.
std::string host_of(std::string_view s);

/// Loopback names and addresses: localhost, 127.0.0.0/8, ::1.
bool is_loopback_host(std::string_view host);

/// An IPv4 or IPv6 literal (a browser page cannot rebind one to us).
bool is_ip_literal(std::string_view host);

/// Whether a request with this Host (empty: none sent) may be served.
bool host_allowed(std::string_view host_header,
                  const std::vector<std::string>& allowed_hosts);

/// Whether a request with this Origin (empty: none sent) may be served.
bool origin_allowed(std::string_view origin,
                    const std::vector<std::string>& allowed_origins,
                    const std::vector<std::string>& allowed_hosts);

/// A header value with `=?base64?<text>?=` decoded; other values as they
/// are. Returns false when the encoded form does not decode.
bool decode_header_value(std::string_view raw, std::string& out);

} // namespace kws::mcp
