// HTTP requests and responses as plain values, so the REST server knows no
// actors and handler actors know no sockets.
#pragma once

#include "messages/access.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kws {

/// A parsed HTTP request.
struct http_request {
  /// "GET" or "HEAD"; "POST" only for admin paths from loopback and for the
  /// MCP endpoint (the server answers every other method itself).
  std::string method;
  /// The decoded path without the query, e.g. "/api/v1/events". A '/' or
  /// '%' inside one segment stays escaped (`escape_path_segment`), so the
  /// path splits into the client's segments.
  std::string path;
  /// Decoded query parameters in their order of appearance; names may
  /// repeat, which the parameter parser rejects.
  std::vector<std::string> query_names;
  std::vector<std::string> query_values;
  /// True when the client connected from a loopback address.
  bool from_loopback = false;
  /// The headers of a request with a body (POST /mcp), names in lower case;
  /// of GET and HEAD only `authorization`, the one header their handlers
  /// read.
  std::map<std::string, std::string> headers = {};
  /// The request body (POST /mcp only).
  std::string body = {};
  /// `auth.mode: proxy`: the caller a front proxy named in its headers,
  /// believed because the connection presented a client certificate the
  /// proxy's CA signed for an allowed name. Empty `user`: none was.
  caller proxied = {};
  /// Why no caller was believed ("" when one was, or outside proxy mode).
  std::string proxy_refusal = {};
};

/// A decoded path segment as it stands in `http_request::path`: '%' as
/// %25 and '/' as %2F, everything else as is.
inline std::string escape_path_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    if (c == '/')
      out += "%2F";
    else if (c == '%')
      out += "%25";
    else
      out += c;
  }
  return out;
}

/// A segment of `http_request::path` as the client meant it: undoes
/// `escape_path_segment` (only its two escapes can occur).
inline std::string unescape_path_segment(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped.substr(i, 3) == "%2F") {
      out += '/';
      i += 2;
    } else if (escaped.substr(i, 3) == "%25") {
      out += '%';
      i += 2;
    } else {
      out += escaped[i];
    }
  }
  return out;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_request& x) {
  return f(caf::meta::type_name("kws.http_request"), x.method, x.path,
           x.query_names, x.query_values, x.from_loopback, x.headers, x.body,
           x.proxied, x.proxy_refusal);
}

/// A response for the server to write.
struct http_response {
  uint16_t status = 200;
  std::string content_type = "application/json";
  /// Extra headers, e.g. X-Total-Count.
  std::map<std::string, std::string> headers;
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_response& x) {
  return f(caf::meta::type_name("kws.http_response"), x.status, x.content_type,
           x.headers, x.body);
}

} // namespace kws

namespace kws {

/// Writes the response of one HTTP request. The REST server implements it;
/// handler actors call `deliver` exactly once, from any thread.
class responder {
public:
  virtual ~responder() = default;
  virtual void deliver(http_response res) = 0;
};

using responder_ptr = std::shared_ptr<responder>;

} // namespace kws

// A responder is a local callback object, never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kws::responder_ptr)
