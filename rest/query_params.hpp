// Validation of the REST API's query parameters into the index's query
// types. Pure functions: no actors, no sockets; the caller supplies the
// resource-type resolver (discovery's) so parsing stays testable.
//
// Rules (api-contract.md):
// * `start`/`end`: RFC 3339, fraction and numeric offsets allowed, converted
//   to UTC; inclusive; `start` after `end` is an error naming `start`.
// * `limit`: default and maximum `max_limit`; larger values are capped;
//   0, negative or non-numeric values are errors.
// * `verb`: create | update | delete; `order`: asc | desc; `view`: full |
//   summary (records without their snapshot).
// * `resourceType`: whatever the resolver accepts (plural, kind, singular,
//   short name, plural.group). The group narrows the query only when the
//   client named one (`deployments.apps`); otherwise any group matches.
// * `namespace`, `resourceName`, `user`, `uid`, `continue` are exact strings;
//   an empty value means the parameter is absent.
// * A known parameter given twice is an error naming it. Unknown parameters
//   are ignored, as most HTTP APIs do, so clients may send extra ones.
// Every error is `ec::invalid_argument` with context (parameter, sentence).
#pragma once

#include "messages/change_query.hpp"
#include "messages/coverage.hpp"
#include "messages/http.hpp"
#include "messages/query.hpp"
#include "messages/resource_type.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <functional>
#include <string_view>

namespace kws::rest {

/// Resolves a client's resourceType text to a resource type; discovery's
/// resolver in production. Errors `not_found` and `invalid_argument` mean
/// an unknown type (400); any other error is passed on unchanged.
using resolver_fn
  = std::function<caf::expected<resource_type>(std::string_view)>;

/// Parses the query of `GET /api/v1/events`.
/// @param max_limit the configured `maxQueryLimit` (default and cap).
caf::expected<event_query> parse_event_query(const http_request& req,
                                             uint32_t max_limit,
                                             const resolver_fn& resolve);

/// Parses `GET /api/v1/events/{namespace}/{resourceType}/{name}`: the path
/// parts (namespace "" for `_cluster`) and the `start`, `end` and `limit`
/// parameters. Other parameters are ignored.
caf::expected<history_query>
parse_history_query(const http_request& req, std::string_view ns,
                    std::string_view resource_type, std::string_view name,
                    uint32_t max_limit, const resolver_fn& resolve);

/// Parses the `start` and `end` of `GET /api/v1/coverage` (both optional).
caf::expected<coverage_query> parse_coverage_query(const http_request& req);

/// Checks the `{id}` of `GET /api/v1/records/{id}`; fails naming `id`.
caf::expected<record_query> parse_record_query(std::string_view id);

/// Parses `GET /api/v1/events/{ns}/{type}/{name}/diff`: `from` and `to`
/// (record ids, both optional) and `ignore` (comma list of pointer
/// prefixes; a name without a leading slash is a top-level member).
caf::expected<diff_query> parse_diff_query(const http_request& req,
                                           std::string_view ns,
                                           std::string_view resource_type,
                                           std::string_view name,
                                           const resolver_fn& resolve);

/// Parses `GET /api/v1/events/{ns}/{type}/{name}/blame`: `at` (RFC 3339,
/// default now).
caf::expected<blame_query> parse_blame_query(const http_request& req,
                                             std::string_view ns,
                                             std::string_view resource_type,
                                             std::string_view name,
                                             const resolver_fn& resolve);

/// Parses `GET /api/v1/snapshot`: `at` (RFC 3339, default now),
/// `namespace`, `resourceType`, `limit`, `continue`.
caf::expected<snapshot_query> parse_snapshot_query(const http_request& req,
                                                   uint32_t max_limit,
                                                   const resolver_fn& resolve);

/// Parses `GET /api/v1/changes`: `start`, `end`, `namespace`,
/// `resourceType`, `changeClass`, `limit`, `continue`.
caf::expected<changes_query> parse_changes_query(const http_request& req,
                                                 uint32_t max_limit,
                                                 const resolver_fn& resolve);

/// Parses `changeClass=spec,status,...` into bits `1 << change_class`.
/// Fails naming `changeClass` on an unknown or empty name.
caf::expected<uint8_t> parse_change_classes(std::string_view text);

/// Checks a non-empty RFC 6901 JSON Pointer; fails naming `parameter`.
caf::expected<std::string> parse_pointer(std::string_view parameter,
                                         std::string_view text);

/// Parses an RFC 3339 time to nanoseconds since the epoch (UTC). A space in
/// place of '+' in the offset is accepted: a literal '+' in a query string
/// decodes to one. Fails with `ec::invalid_argument` naming `parameter`.
caf::expected<int64_t> parse_time(std::string_view parameter,
                                  std::string_view text);

} // namespace kws::rest
