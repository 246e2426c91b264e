// JSON responses of the query endpoints: event pages, object histories and
// errors, in the exact shape of api-contract.md. Pure functions.
#pragma once

#include "messages/change_query.hpp"
#include "messages/coverage.hpp"
#include "messages/http.hpp"
#include "messages/query.hpp"
#include "messages/status.hpp"

#include <caf/error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace kws::rest {

/// `GET /api/v1/events`: status 200, the records as a JSON array in page
/// order, and the headers `X-Total-Count` (records in this response),
/// `X-Has-More` (`true`/`false`) and, when more follow, `X-Continue`.
/// `summary`: each record in its light form (`summarize_record`).
http_response render_page(const event_page& page, bool summary = false);

/// `GET /api/v1/events/{ns}/{type}/{name}`: status 200 and
/// `{"namespace","resourceType","resourceName","watchEvents","relatedEvents"}`
/// with the query's (resolved) names; a 404 error when `!h.found`.
http_response render_history(const history_query& q, const object_history& h);

/// `GET /api/v1/coverage`: status 200 and `{"gaps": [{"resourceType",
/// "group", "start", "end", "fromResourceVersion", "toResourceVersion",
/// "reason"}], "filtered": [{"resourceType", "group", "namespaces",
/// "excludeNamespaces", "labelSelector", "fieldSelector",
/// "statusUpdates"}]}`, the gaps ordered by start, then the watched types
/// of which only a part is recorded.
http_response render_coverage(const std::vector<coverage_gap>& gaps,
                              const std::vector<watcher_status>& watched = {});

/// `GET /readyz`: 200 when ready (also when degraded), else 503, and
/// `{"status": "ready"|"degraded"|"not ready", "pending", "failing",
/// "behind"}`, the types still syncing, failing (retried) and behind their
/// stream.
http_response render_readiness(const readiness& r);

/// A store-built answer (record, diff, blame): status 200 and its body, or
/// a 404 error whose sentence is the body when `!a.found`.
http_response render_answer(const json_answer& a);

/// An error as `{"error": "<sentence>", "parameter": "<name>"}`. Status:
/// `invalid_argument` → 400, `unauthenticated` → 401 (with
/// `WWW-Authenticate: Bearer`), `forbidden` → 403, `not_found` → 404,
/// `already_exists` → 409, `unavailable` → 503, a
/// request timeout → 504, anything else → 500. A
/// `kws` error whose context holds two strings names the parameter at fault
/// first and the sentence second; with one string, that is the sentence.
http_response render_error(const caf::error& err);

/// A JSON string literal: `s` quoted and escaped.
std::string json_string(std::string_view s);

/// A JSON array of string literals.
std::string json_string_array(const std::vector<std::string>& xs);

/// The contract's error body; `parameter` is left out when empty.
std::string render_error_body(std::string_view message,
                              std::string_view parameter = {});

} // namespace kws::rest
