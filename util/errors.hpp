// The project's one error enum and its rendering.
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>
#include <string>

namespace kws {

/// Error codes of k8s-watch-server. Carried in `caf::error` with category
/// "kws"; the context message holds the human-readable details.
enum class ec : uint8_t {
  /// Not an error.
  no_error = 0,
  /// Bad client input (a query parameter, a CLI flag); maps to HTTP 400.
  invalid_argument,
  /// The requested thing does not exist; maps to HTTP 404.
  not_found,
  /// RocksDB or the file system failed.
  storage_failure,
  /// Malformed bytes from a peer (apiserver JSON, YAML, kubeconfig).
  parse_error,
  /// A configuration value is invalid.
  config_error,
  /// A dependency is not ready or has stopped; retry later.
  unavailable,
  /// Connecting, TLS or I/O with a remote peer failed.
  transport_error,
  /// The apiserver rejected our credentials (401) or permissions (403).
  unauthorized,
  /// The resourceVersion is too old (HTTP 410 / watch ERROR 410).
  gone,
  /// The apiserver answered with an unexpected HTTP status.
  unexpected_status,
  /// The peer asked us to slow down (429), see the context for Retry-After.
  too_many_requests,
  /// What a client asked to create exists already; maps to HTTP 409.
  already_exists,
  /// A request to this server carried no valid credentials; maps to 401.
  unauthenticated,
  /// The caller may not read what they asked for; maps to HTTP 403.
  forbidden,
};

/// Returns the enumerator's name, e.g. "invalid_argument".
std::string to_string(ec x);

/// Renders an error for logs and HTTP bodies: "invalid_argument: <context>"
/// for project errors, CAF's own text for everything else.
std::string render(const caf::error& err);

/// Returns the first string of the error's context, or "" when there is none.
std::string error_detail(const caf::error& err);

} // namespace kws

CAF_ERROR_CODE_ENUM(kws::ec, "kws")
