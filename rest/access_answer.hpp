// How the REST API speaks about access: the bearer token of a request, the
// 403 of a query the caller may not answer at all, and the headers of an
// answer that was narrowed to what the caller may read. Pure.
#pragma once

#include "messages/access.hpp"
#include "messages/http.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <string>
#include <string_view>

namespace kws::rest {

/// The token of `Authorization: Bearer <token>` (the scheme in any case);
/// `ec::unauthenticated` saying what is missing or wrong otherwise.
caf::expected<std::string> bearer_token(const http_request& req);

/// Who asks, as ACCESS is told: the caller a trusted front proxy named
/// (`http_request::proxied`, `auth.mode: proxy`), else the bearer token;
/// `ec::unauthenticated` saying why neither is there.
caf::expected<access_request> access_of(const http_request& req);

/// `ec::forbidden` naming the missing permission when `grant` lets nothing
/// of the query through: its one type (`type`, a group_resource) or, when
/// `type` is empty, every type; none otherwise. `ns` is the query's
/// namespace ("" for all, or for a cluster-scoped object).
caf::error refusal(const access_grant& grant, std::string_view ns,
                   std::string_view type);

/// Adds `X-Filtered-Resources` (types left out entirely) and
/// `X-Filtered-Namespaces` (namespaces left out for some type) to `res`
/// when `grant` narrowed the answer.
void mark_filtered(http_response& res, const access_grant& grant);

} // namespace kws::rest
