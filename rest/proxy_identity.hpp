// `auth.mode: proxy`: believing the user a front proxy names in its request
// headers, as the apiserver's request-header authenticator does: only on a
// connection whose client certificate the proxy's CA signed, for one of the
// allowed names.
#pragma once

#include "messages/access.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <caf/expected.hpp>
#include <openssl/ssl.h>

#include <string>
#include <string_view>
#include <vector>

namespace kws::rest {

/// Whom to believe (`auth.proxy`); header names match in any case.
struct proxy_trust {
  /// Common names the proxy's certificate may have; empty: any.
  std::vector<std::string> allowed_names;
  /// Headers naming the user; the first present wins.
  std::vector<std::string> username_headers{"X-Remote-User"};
  /// Headers each naming one group, every value of each.
  std::vector<std::string> group_headers{"X-Remote-Group"};
  /// `<prefix><key>` headers: the user's extra attribute `key` (lower case,
  /// percent-decoded), one value per header.
  std::vector<std::string> extra_headers_prefixes{"X-Remote-Extra-"};
};

/// The common name of the client certificate `ssl` verified against its
/// context's CAs; "" when the client sent none or it did not verify.
std::string verified_client_name(SSL* ssl);

/// The caller `req`'s headers name, when `cert_name` (the connection's
/// verified client certificate, "" for none) is trusted; else an error
/// (`ec::unauthenticated`) saying why not.
caf::expected<caller> proxied_caller(
  const boost::beast::http::request<boost::beast::http::string_body>& req,
  std::string_view cert_name, const proxy_trust& trust);

} // namespace kws::rest
