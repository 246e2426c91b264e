// Fuzzes the query parameters of both query endpoints: the query string is
// decoded as the server decodes a request target, then validated by
// parse_event_query and parse_history_query with discovery's resolver.
//
// Input: a query string, e.g. `start=2026-11-26T10:00:00Z&limit=5`.

#include "rest/query_params.hpp"

#include "rest/url.hpp"
#include "tests/fuzz/support.hpp"

#include <string>

using kws::fuzz::check;

namespace {

constexpr uint32_t max_limit = 1000;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto query = kws::fuzz::as_text(data, size);
  kws::http_request req;
  req.method = "GET";
  if (auto err
      = kws::rest::parse_target("/api/v1/events?" + std::string{query}, req))
    return 0;
  check(req.query_names.size() == req.query_values.size(),
        "query names and values differ in number");
  const auto& resolve = kws::fuzz::recorded_resolver();
  if (auto q = kws::rest::parse_event_query(req, max_limit, resolve)) {
    check(q->limit >= 1 && q->limit <= max_limit, "limit outside [1, max]");
    check(q->start_ns <= q->end_ns, "start after end");
    check(q->verb.empty() || q->verb == "create" || q->verb == "update"
            || q->verb == "delete",
          "an unknown verb passed");
    check(q->group.empty() || !q->resource.empty(), "a group without type");
  }
  if (auto q = kws::rest::parse_history_query(req, "default", "deploy", "web",
                                              max_limit, resolve)) {
    check(q->limit >= 1 && q->limit <= max_limit, "limit outside [1, max]");
    check(q->start_ns <= q->end_ns, "start after end");
    check(q->resource == "deployments", "the path's type was not resolved");
  }
  return 0;
}
