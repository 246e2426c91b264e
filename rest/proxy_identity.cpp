#include "rest/proxy_identity.hpp"

#include "rest/render.hpp"
#include "rest/url.hpp"
#include "util/ascii_case.hpp"
#include "util/errors.hpp"

#include <openssl/x509.h>

#include <algorithm>
#include <map>
#include <memory>

namespace kws::rest {

namespace {

caf::error refused(const std::string& why) {
  return caf::make_error(ec::unauthenticated, why);
}

bool is_named(std::string_view field, const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    return ascii_iequals(field, n);
  });
}

/// The prefix of `names` that `field` starts with, in any case.
const std::string* prefix_of(std::string_view field,
                             const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (field.size() > n.size() && ascii_iequals(field.substr(0, n.size()), n))
      return &n;
  return nullptr;
}

std::string
extra_json(const std::map<std::string, std::vector<std::string>>& extra) {
  if (extra.empty())
    return {};
  std::string out = "{";
  for (const auto& [key, values] : extra) {
    if (out.size() > 1)
      out += ',';
    out += json_string(key);
    out += ':';
    out += json_string_array(values);
  }
  out += '}';
  return out;
}

} // namespace

std::string verified_client_name(SSL* ssl) {
  std::unique_ptr<X509, decltype(&X509_free)> peer{
    SSL_get1_peer_certificate(ssl), &X509_free};
  if (!peer || SSL_get_verify_result(ssl) != X509_V_OK)
    return {};
  auto* subject = X509_get_subject_name(peer.get());
  int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at < 0)
    return {};
  const auto* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
  const auto* bytes = ASN1_STRING_get0_data(data);
  return {reinterpret_cast<const char*>(bytes),
          static_cast<size_t>(ASN1_STRING_length(data))};
}

caf::expected<caller> proxied_caller(
  const boost::beast::http::request<boost::beast::http::string_body>& req,
  std::string_view cert_name, const proxy_trust& trust) {
  if (cert_name.empty())
    return refused("auth.mode proxy: the request must come through the front "
                   "proxy, with a client certificate its CA signed");
  const auto& allowed = trust.allowed_names;
  if (!allowed.empty()
      && std::find(allowed.begin(), allowed.end(), cert_name) == allowed.end())
    return refused("auth.mode proxy: the client certificate's name '"
                   + std::string{cert_name}
                   + "' is not one of auth.proxy.allowedNames");
  caller who;
  // The first header that names a user wins, as in the apiserver.
  for (const auto& name : trust.username_headers) {
    for (const auto& field : req) {
      auto fname = field.name_string();
      if (ascii_iequals({fname.data(), fname.size()}, name)
          && !field.value().empty()) {
        who.user = std::string{field.value()};
        break;
      }
    }
    if (!who.user.empty())
      break;
  }
  if (who.user.empty())
    return refused("auth.mode proxy: the front proxy named no user ("
                   + (trust.username_headers.empty()
                        ? std::string{"no header"}
                        : trust.username_headers.front())
                   + ")");
  std::map<std::string, std::vector<std::string>> extra;
  for (const auto& field : req) {
    auto fname = field.name_string();
    std::string_view name{fname.data(), fname.size()};
    std::string value{field.value()};
    if (is_named(name, trust.group_headers)) {
      if (!value.empty())
        who.groups.push_back(std::move(value));
    } else if (const auto* prefix
               = prefix_of(name, trust.extra_headers_prefixes)) {
      auto key = percent_decode(name.substr(prefix->size()), false);
      if (!key)
        return refused("auth.mode proxy: the header " + std::string{name}
                       + " names no extra attribute");
      extra[ascii_lower(*key)].push_back(std::move(value));
    }
  }
  who.extra_json = extra_json(extra);
  return who;
}

} // namespace kws::rest
