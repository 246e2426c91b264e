// The apiserver's answers to "who holds this token" (TokenReview) and "may
// this user get that" (SubjectAccessReview), as request bodies and parsers,
// and the plan of the reviews one query needs. Pure: no I/O, no clock.
#pragma once

#include "messages/access.hpp"

#include <caf/expected.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws::kube {

constexpr std::string_view token_review_path
  = "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr std::string_view access_review_path
  = "/apis/authorization.k8s.io/v1/subjectaccessreviews";

/// A TokenReview of `token`; `audiences` empty means the apiserver's own.
std::string token_review_body(std::string_view token,
                              const std::vector<std::string>& audiences);

/// The caller of an authenticated TokenReview; `ec::unauthenticated` with
/// the apiserver's `status.error` when the token is not valid;
/// `ec::parse_error` for a body that is no TokenReview.
caf::expected<caller> parse_token_review(std::string_view body);

/// One question to the authorizer: may the caller `get` `resource` of
/// `group` in namespace `ns` ("" = in every namespace, or cluster-scoped).
struct review_key {
  std::string ns;
  std::string group;
  std::string resource;

  friend bool operator==(const review_key&, const review_key&) = default;
};

/// A SubjectAccessReview of `what` for `who`.
std::string access_review_body(const caller& who, const review_key& what);

/// `status.allowed` of a SubjectAccessReview (false when `status.denied`);
/// `ec::parse_error` for a body that is no SubjectAccessReview.
caf::expected<bool> parse_access_review(std::string_view body);

/// The names in a NamespaceList.
caf::expected<std::vector<std::string>>
parse_namespace_names(std::string_view body);

/// What an access request still needs, or its grant.
struct access_plan {
  /// Reviews whose answers are not known yet.
  std::vector<review_key> missing;
  /// True when the live namespaces must be known before going on.
  bool needs_namespaces = false;
  /// Set when every answer is known (`who` left empty).
  std::optional<access_grant> grant;
};

/// The known answer to a review, if any.
using review_lookup = std::function<std::optional<bool>(const review_key&)>;

/// Plans the reviews of `req`. In one namespace, a type needs one review
/// there. Over every namespace, a type needs a review in every namespace
/// only when the cluster-wide one denied it, as `kubectl get -A` would
/// refuse where this server narrows the answer to the namespaces allowed
/// (`namespaces`, the live ones; null until known).
access_plan plan_access(const access_request& req, const review_lookup& known,
                        const std::vector<std::string>* namespaces);

} // namespace kws::kube
