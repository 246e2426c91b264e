// Fuzzes what `auth.mode: token` reads from outside: the Authorization
// header of a request, and the apiserver's TokenReview, SubjectAccessReview
// and NamespaceList answers. Whatever arrives, a header either yields a
// token without blanks or an `unauthenticated` error, a review either a
// caller with a user or an error, and nothing crashes.
//
// Input: the header value, a NUL byte, then one apiserver body.

#include "kube/access_review.hpp"
#include "rest/access_answer.hpp"
#include "tests/fuzz/support.hpp"
#include "util/errors.hpp"

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
