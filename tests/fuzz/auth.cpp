// Fuzzes what `auth.mode: token` and `proxy` read from outside: the
// Authorization header of a request, a front proxy's identity headers, and
// the apiserver's TokenReview, SubjectAccessReview and NamespaceList answers.
// Whatever arrives, a header either yields a token without blanks or an
// `unauthenticated` error, the identity headers a caller with a user whose
// extras are valid JSON or an `unauthenticated` error, a review either a
// caller with a user or an error, and nothing crashes.
//
// Input: the header value (also read as `Name: value` lines for the proxy),
// a NUL byte, then one apiserver body.

#include "kube/access_review.hpp"
#include "rest/access_answer.hpp"
#include "rest/proxy_identity.hpp"
#include "tests/fuzz/support.hpp"
#include "util/errors.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <rapidjson/document.h>

#include <string>

using kws::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = kws::fuzz::as_text(data, size);
  auto cut = input.find('\0');
  auto header = input.substr(0, cut);
  auto body = cut == std::string_view::npos ? std::string_view{}
                                            : input.substr(cut + 1);
  kws::http_request req;
  req.headers["authorization"] = std::string{header};
  if (auto token = kws::rest::bearer_token(req)) {
    check(!token->empty(), "an empty token passed");
    check(token->find_first_of(" \t") == std::string::npos,
          "a token with blanks passed");
  } else {
    check(token.error() == kws::ec::unauthenticated,
          "a bad header is not unauthenticated");
  }
  boost::beast::http::request<boost::beast::http::string_body> head;
  size_t at = 0;
  while (at <= header.size()) {
    auto end = header.find('\n', at);
    auto line = header.substr(
      at, end == std::string_view::npos ? std::string_view::npos : end - at);
    at = end == std::string_view::npos ? header.size() + 1 : end + 1;
    auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos
        || line.find('\r') != std::string_view::npos)
      continue;
    head.insert(line.substr(0, colon), line.substr(colon + 1));
  }
  if (auto who = kws::rest::proxied_caller(head, "front-proxy", {})) {
    check(!who->user.empty(), "a proxied caller without a user");
    if (!who->extra_json.empty()) {
      rapidjson::Document doc;
      doc.Parse(who->extra_json.data(), who->extra_json.size());
      check(!doc.HasParseError() && doc.IsObject(),
            "the proxied extras are not a JSON object");
    }
  } else {
    check(who.error() == kws::ec::unauthenticated,
          "refused identity headers are not unauthenticated");
  }
  if (auto who = kws::kube::parse_token_review(body)) {
    check(!who->user.empty(), "a caller without a user");
    // The caller's reviews carry what the TokenReview said, as JSON.
    auto review = kws::kube::access_review_body(*who, {"ns", "apps", "pods"});
    check(review.find("SubjectAccessReview") != std::string::npos,
          "a review body without its kind");
  } else {
    check(who.error() == kws::ec::unauthenticated
            || who.error() == kws::ec::parse_error,
          "a TokenReview failure of an unexpected kind");
  }
  (void)kws::kube::parse_access_review(body);
  if (auto names = kws::kube::parse_namespace_names(body))
    for (const auto& n : *names)
      check(!n.empty(), "an empty namespace name");
  return 0;
}
