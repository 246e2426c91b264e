// The access log: one line per answered HTTP request, as text for people or
// as one JSON object for log pipelines. Pure formatting; the application
// decides where the lines go.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace kws::rest {

/// One answered HTTP request.
struct access_entry {
  /// When the request head had been read, ns since the Unix epoch.
  int64_t time_ns = 0;
  /// The client's IP address.
  std::string remote;
  /// As the client sent it; empty when the request did not parse.
  std::string method;
  /// Path and query as the client sent them (still percent-encoded); empty
  /// when the request did not parse.
  std::string target;
  uint16_t status = 0;
  /// Response body bytes written (0 for HEAD).
  uint64_t bytes = 0;
  /// From the request head being read to the response being written.
  std::chrono::nanoseconds duration{0};
  /// Who made the request once authentication exists; empty until then.
  std::string caller;
};

/// The name of the logger the access lines go through.
constexpr std::string_view access_logger_name = "access";

/// Whether the access log keeps `entry`: everything except the probes
/// (`/health`, `/livez`, `/readyz`) that succeed, which kubelet sends every
/// few seconds and which say nothing until they fail (status 400 or more).
bool should_log(const access_entry& entry);

/// One text line without newline, e.g.
///
///     2026-11-26T10:18:00.123Z access 10.1.2.3 "GET /api/v1/events?limit=5"
///     200 1834 12.346ms -
///
/// (one line): time, remote, method and target, status, body bytes,
/// duration, caller; `-` for an empty remote or caller, `"-"` for a request
/// that did not parse. Quotes, backslashes, control and non-ASCII bytes are
/// written as `\"`, `\\` and `\xHH`, so a client cannot split or forge a line.
std::string format_text(const access_entry& entry);

/// One JSON object without newline, with the members of every JSON log line
/// (`time`, `level`, `logger`, `message`) and the request's own: `remote`,
/// `method`, `target`, `status`, `bytes`, `durationMs`, `caller`. Invalid
/// UTF-8 from the client becomes U+FFFD, so the line always parses.
std::string format_json(const access_entry& entry);

} // namespace kws::rest
