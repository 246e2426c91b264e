// The HTTP HANDLER has no phases: every request is answered independently.
// Query endpoints resolve `resourceType` against DISCOVERY's type catalog
// (pushed to the handler; DISCOVERY is asked only before the first one),
// then parse the remaining parameters, then ask INDEX.
#include "actors/http_handler.hpp"

#include "actors/gather_answers.hpp"
#include "actors/http_handler_access.hpp"
#include "rest/access_answer.hpp"
#include "rest/backup_target.hpp"
#include "rest/cluster_route.hpp"
#include "rest/query_params.hpp"
#include "rest/render.hpp"
#include "rest/routes.hpp"
#include "rest/server.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace kws {

static_assert(!std::is_aggregate_v<http_handler_state>);

namespace {

using self_ptr = http_handler_actor::stateful_pointer<http_handler_state>;

/// The value of query parameter `name`, or "" when absent.
std::string query_value(const http_request& req, std::string_view name) {
  for (size_t i = 0; i < req.query_names.size(); ++i)
    if (req.query_names[i] == name)
      return req.query_values[i];
  return {};
}

http_response json_response(uint16_t status, std::string body) {
  http_response result;
  result.status = status;
  result.body = std::move(body);
  return result;
}

/// Records the latency of one answered query.
void observe(std::string_view route,
             std::chrono::steady_clock::time_point started) {
  auto& h = metrics::get_histogram(
    "kws_query_duration_seconds", "Latency of answered REST queries.",
    route == "events" ? "route=\"events\"" : "route=\"history\"");
  h.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
      .count());
}

/// Calls `then` with a resolver the pure parameter parsers can use: the
/// type catalog's, or, before DISCOVERY sent one, DISCOVERY's answer for the
/// raw `resourceType` (if any).
template <class F>
void with_resolved_type(self_ptr self, const std::string& raw, F then) {
  if (auto catalog = self->state.catalog) {
    then(rest::resolver_fn{
      [catalog](std::string_view name) { return catalog->resolve(name); }});
    return;
  }
  if (raw.empty()) {
    then(
      rest::resolver_fn{[](std::string_view) -> caf::expected<resource_type> {
        return caf::make_error(ec::invalid_argument, "resourceType",
                               "no resourceType given");
      }});
    return;
  }
  self
    ->request(self->state.discovery, self->state.config.timeout,
              atom::resolve_v, raw)
    .then(
      [then](const resource_type& rt) {
        then(rest::resolver_fn{
          [rt](std::string_view) -> caf::expected<resource_type> {
            return rt;
          }});
      },
      [then](const caf::error& err) {
        then(rest::resolver_fn{
          [err](std::string_view) -> caf::expected<resource_type> {
            return err;
          }});
      });
}

/// The resolved type of a query's `resourceType`, none when not given.
std::optional<resource_type> named_type(const std::string& raw,
                                        const rest::resolver_fn& resolve) {
  if (raw.empty())
    return std::nullopt;
  auto rt = resolve(raw);
  return rt ? std::optional{*rt} : std::nullopt;
}

/// Sends `query` to the least busy INDEX actor and calls `answer` with its
/// result or `fail` with its error.
template <class Result, class Query, class Answer, class Fail>
void ask_index(self_ptr self, const Query& query, Answer answer, Fail fail) {
  auto worker = self->state.index_load.acquire();
  self->request(self->state.indexes[worker], self->state.config.timeout, query)
    .then(
      [self, worker, answer](const Result& result) {
        self->state.index_load.release(worker);
        answer(result);
      },
      [self, worker, fail](const caf::error& err) {
        self->state.index_load.release(worker);
        fail(err);
      });
}

/// Delivers `res` with `X-Coverage-Gaps`: how many coverage gaps of
/// `resource` (any when "") overlap [start, end], so a client knows whether
/// "nothing changed" can be trusted. Without the count when INDEX fails.
void deliver_with_gaps(self_ptr self, http_response res, int64_t start,
                       int64_t end, const std::string& resource,
                       const responder_ptr& rp) {
  if (res.status != 200)
    return rp->deliver(std::move(res));
  ask_index<uint64_t>(
    self, gap_count_query{coverage_query{start, end}, resource},
    [rp, res](uint64_t n) {
      auto out = res;
      out.headers["X-Coverage-Gaps"] = std::to_string(n);
      rp->deliver(std::move(out));
    },
    [rp, res](const caf::error& err) {
      KWS_WARN("http-handler failed to count coverage gaps: {}", err);
      rp->deliver(res);
    });
}

void answer_events(self_ptr self, const http_request& req,
                   const responder_ptr& rp) {
  auto started = std::chrono::steady_clock::now();
  auto raw = query_value(req, "resourceType");
  with_resolved_type(
    self, raw, [self, req, raw, rp, started](const rest::resolver_fn& resolve) {
      auto query = rest::parse_event_query(
        req, self->state.config.max_query_limit, resolve);
      if (!query)
        return rp->deliver(rest::render_error(query.error()));
      auto rt = named_type(raw, resolve);
      std::vector<resource_type> types;
      if (rt)
        types.push_back(*rt);
      with_access(
        self, req, rp, query->ns, std::move(types), true,
        rt ? rt->group_resource() : std::string{},
        [self, rp, started, q = *query](const access_grant& grant) mutable {
          q.access = grant.filter;
          ask_index<event_page>(
            self, q,
            [self, rp, started, q, grant](const event_page& page) {
              observe("events", started);
              auto res = rest::render_page(page, q.summary);
              rest::mark_filtered(res, grant);
              deliver_with_gaps(self, std::move(res), q.start_ns, q.end_ns,
                                q.resource, rp);
            },
            [rp](const caf::error& err) {
              KWS_WARN("http-handler failed to query events: {}", err);
              rp->deliver(rest::render_error(err));
            });
        });
    });
}

void answer_history(self_ptr self, const http_request& req,
                    const rest::route_match& m, const responder_ptr& rp) {
  auto started = std::chrono::steady_clock::now();
  with_resolved_type(
    self, m.resource_type,
    [self, req, m, rp, started](const rest::resolver_fn& resolve) {
      auto query = rest::parse_history_query(req, m.ns, m.resource_type, m.name,
                                             self->state.config.max_query_limit,
                                             resolve);
      if (!query)
        return rp->deliver(rest::render_error(query.error()));
      auto rt = named_type(m.resource_type, resolve);
      // The object's type must be allowed; Events only narrow the answer.
      with_access(
        self, req, rp, query->ns, {*rt, core_events_type()}, false,
        rt->group_resource(),
        [self, rp, q = *query, started](const access_grant& grant) {
          bool events = allows(grant.filter, q.ns, "events", "");
          ask_index<object_history>(
            self, q,
            [self, rp, q, started, events](const object_history& history) {
              observe("history", started);
              auto shown = history;
              if (!events)
                shown.related_events.clear();
              auto res = rest::render_history(q, shown);
              if (!events)
                res.headers["X-Filtered-Resources"] = "events";
              deliver_with_gaps(self, std::move(res), q.start_ns, q.end_ns,
                                q.resource, rp);
            },
            [rp](const caf::error& err) {
              KWS_WARN("http-handler failed to query history: {}", err);
              rp->deliver(rest::render_error(err));
            });
        });
    });
}

/// GET /readyz, when the server does not answer it from its readiness
/// source (`rest::server_options::readiness`).
void answer_readyz(self_ptr self, const responder_ptr& rp) {
  self
    ->request(self->state.discovery, self->state.config.timeout, atom::status_v)
    .then([rp](const readiness& r) { rp->deliver(rest::render_readiness(r)); },
          [rp](const caf::error& err) {
            rp->deliver(rest::error_response(503, "not ready: " + render(err)));
          });
}

void answer_coverage(self_ptr self, const coverage_query& query,
                     const responder_ptr& rp);

/// GET /api/v1/coverage: the gaps overlapping [start, end]; any caller may
/// ask (gaps name types, never objects).
void answer_coverage(self_ptr self, const http_request& req,
                     const responder_ptr& rp) {
  auto query = rest::parse_coverage_query(req);
  if (!query)
    return rp->deliver(rest::render_error(query.error()));
  with_caller(self, req, rp,
              [self, rp, query = *query] { answer_coverage(self, query, rp); });
}

void answer_coverage(self_ptr self, const coverage_query& query,
                     const responder_ptr& rp,
                     std::vector<watcher_status> watched) {
  ask_index<std::vector<coverage_gap>>(
    self, query,
    [rp, watched = std::move(watched)](const std::vector<coverage_gap>& gaps) {
      rp->deliver(rest::render_coverage(gaps, watched));
    },
    [rp](const caf::error& err) {
      KWS_WARN("http-handler failed to query coverage: {}", err);
      rp->deliver(rest::render_error(err));
    });
}

void answer_coverage(self_ptr self, const coverage_query& query,
                     const responder_ptr& rp) {
  // A hub's stores watch nothing themselves: only the stored gaps count.
  if (!self->state.discovery)
    return answer_coverage(self, query, rp, {});
  // The watched types' filters say what is recorded only in part.
  self
    ->request(self->state.discovery, self->state.config.timeout, atom::status_v)
    .then(
      [self, rp, query](const readiness& r) {
        answer_coverage(self, query, rp, r.watchers);
      },
      [rp](const caf::error& err) {
        rp->deliver(rest::error_response(503, "not ready: " + render(err)));
      });
}

/// Asks INDEX a store-built question and renders its answer.
template <class Query>
void ask_answer(self_ptr self, const Query& query, const responder_ptr& rp,
                const char* what) {
  ask_index<json_answer>(
    self, query,
    [rp](const json_answer& a) { rp->deliver(rest::render_answer(a)); },
    [rp, what](const caf::error& err) {
      KWS_WARN("http-handler failed to answer {}: {}", what, err);
      rp->deliver(rest::render_error(err));
    });
}

/// GET /api/v1/records/{id}: the record is read first, then its own
/// namespace and type are checked.
void answer_record(self_ptr self, const http_request& req,
                   const rest::route_match& m, const responder_ptr& rp) {
  auto query = rest::parse_record_query(m.id);
  if (!query)
    return rp->deliver(rest::render_error(query.error()));
  if (!self->state.access)
    return ask_answer(self, *query, rp, "a record lookup");
  ask_index<json_answer>(
    self, *query,
    [self, req, rp](const json_answer& a) {
      if (!a.found)
        return rp->deliver(rest::render_answer(a));
      // Closed when unsure: a record whose owner cannot be read is refused.
      auto owner = record_owner(a.body);
      if (!owner)
        return rp->deliver(rest::render_error(caf::make_error(
          ec::forbidden, "the record names no namespace and type to check")));
      auto ns = owner->ns;
      auto gr = owner->type.group_resource();
      with_access(
        self, req, rp, ns, {owner->type}, false, gr,
        [rp, a](const access_grant&) { rp->deliver(rest::render_answer(a)); });
    },
    [rp](const caf::error& err) {
      KWS_WARN("http-handler failed to answer a record lookup: {}", err);
      rp->deliver(rest::render_error(err));
    });
}

/// GET /api/v1/events/{ns}/{type}/{name}/diff and .../blame.
void answer_object_change(self_ptr self, const http_request& req,
                          const rest::route_match& m, const responder_ptr& rp) {
  with_resolved_type(
    self, m.resource_type,
    [self, req, m, rp](const rest::resolver_fn& resolve) {
      auto rt = named_type(m.resource_type, resolve);
      auto checked = [&](const auto& query) {
        using query_t = std::decay_t<decltype(query)>;
        with_access(
          self, req, rp, query.object.ns, {*rt}, false, rt->group_resource(),
          [self, rp, query](const access_grant&) {
            ask_answer(self, query, rp,
                       std::is_same_v<query_t, diff_query> ? "a diff"
                                                           : "a blame");
          });
      };
      if (m.which == rest::route::object_diff) {
        auto query
          = rest::parse_diff_query(req, m.ns, m.resource_type, m.name, resolve);
        if (!query)
          return rp->deliver(rest::render_error(query.error()));
        return checked(*query);
      }
      auto query
        = rest::parse_blame_query(req, m.ns, m.resource_type, m.name, resolve);
      if (!query)
        return rp->deliver(rest::render_error(query.error()));
      checked(*query);
    });
}

/// GET /api/v1/snapshot and GET /api/v1/changes.
void answer_window(self_ptr self, const http_request& req,
                   const rest::route_match& m, const responder_ptr& rp) {
  auto raw = query_value(req, "resourceType");
  with_resolved_type(
    self, raw, [self, req, m, raw, rp](const rest::resolver_fn& resolve) {
      auto limit = self->state.config.max_query_limit;
      auto rt = named_type(raw, resolve);
      std::vector<resource_type> types;
      if (rt)
        types.push_back(*rt);
      auto required = rt ? rt->group_resource() : std::string{};
      if (m.which == rest::route::snapshot) {
        auto query = rest::parse_snapshot_query(req, limit, resolve);
        if (!query)
          return rp->deliver(rest::render_error(query.error()));
        auto ns = query->window.ns;
        return with_access(
          self, req, rp, ns, std::move(types), true, required,
          [self, rp, q = *query](const access_grant& grant) mutable {
            q.window.access = grant.filter;
            ask_index<json_answer>(
              self, q,
              [rp, grant](const json_answer& a) {
                auto res = rest::render_answer(a);
                rest::mark_filtered(res, grant);
                rp->deliver(std::move(res));
              },
              [rp](const caf::error& err) {
                KWS_WARN("http-handler failed to answer a snapshot: {}", err);
                rp->deliver(rest::render_error(err));
              });
          });
      }
      auto query = rest::parse_changes_query(req, limit, resolve);
      if (!query)
        return rp->deliver(rest::render_error(query.error()));
      auto ns = query->window.ns;
      with_access(self, req, rp, ns, std::move(types), true, required,
                  [self, rp, q = *query](const access_grant& grant) mutable {
                    q.window.access = grant.filter;
                    const auto& w = q.window;
                    ask_index<json_answer>(
                      self, q,
                      [self, rp, w, grant](const json_answer& a) {
                        auto res = rest::render_answer(a);
                        rest::mark_filtered(res, grant);
                        deliver_with_gaps(self, std::move(res), w.start_ns,
                                          w.end_ns, w.resource, rp);
                      },
                      [rp](const caf::error& err) {
                        KWS_WARN(
                          "http-handler failed to answer a change summary: {}",
                          err);
                        rp->deliver(rest::render_error(err));
                      });
                  });
    });
}

/// POST /admin/backup?dest=DIR: a consistent online backup by STORAGE (a
/// hub's STORE BACKUP), into a new directory inside `backupRoot`.
void answer_backup(self_ptr self, const http_request& req,
                   const responder_ptr& rp) {
  if (req.method != "POST") {
    auto res = rest::error_response(405, "use POST for /admin/backup");
    res.headers["Allow"] = "POST";
    return rp->deliver(std::move(res));
  }
  const auto& root = self->state.config.backup_root;
  auto dest = rest::backup_target(root, query_value(req, "dest"));
  if (!dest)
    return rp->deliver(rest::render_error(dest.error()));
  self
    ->request(self->state.backup, self->state.config.backup_timeout,
              atom::backup_v, *dest, root)
    .then(
      [rp](const std::string& path) {
        rp->deliver(
          json_response(200, "{\"path\":" + rest::json_string(path) + "}"));
      },
      [rp](const caf::error& err) {
        auto res = rest::render_error(err);
        // A path already taken or not there is the caller's to fix.
        if (res.status >= 500)
          KWS_ERROR("http-handler: backup failed: {}", err);
        rp->deliver(std::move(res));
      });
}

void answer(self_ptr self, const http_request& req, const responder_ptr& rp);

void answer_mcp_call(self_ptr self, const http_request& req,
                     const responder_ptr& rp);

/// POST /mcp: the pure MCP layer answers, or names the REST queries a tool
/// needs; those go through the same paths as a client's.
void answer_mcp(self_ptr self, const http_request& req,
                const responder_ptr& rp) {
  // The caller is known before the protocol answers anything; each of a
  // tool's queries is then narrowed to what they may read.
  with_caller(self, req, rp,
              [self, req, rp] { answer_mcp_call(self, req, rp); });
}

void answer_mcp_call(self_ptr self, const http_request& req,
                     const responder_ptr& rp) {
  // Each of a tool's queries carries the caller's credentials.
  auto credentials = req.headers.find("authorization");
  std::optional<std::pair<std::string, std::string>> token;
  if (credentials != req.headers.end())
    token = *credentials;
  answer_mcp_request(req, self->state.config.mcp, rp,
                     [self, token, proxied = req.proxied,
                      refusal = req.proxy_refusal](http_request query,
                                                   const responder_ptr& slot) {
                       if (token)
                         query.headers.insert(*token);
                       query.proxied = proxied;
                       query.proxy_refusal = refusal;
                       answer(self, query, slot);
                     });
}

void answer(self_ptr self, const http_request& req, const responder_ptr& rp) {
  auto m = rest::match_route(req.path);
  switch (m.which) {
    case rest::route::health:
      return rp->deliver(json_response(200, R"({"status":"ok"})"));
    case rest::route::livez:
      return rp->deliver(json_response(200, R"({"status":"live"})"));
    case rest::route::readyz: return answer_readyz(self, rp);
    case rest::route::metrics: {
      http_response res;
      res.content_type = "text/plain; version=0.0.4";
      res.body = metrics::render_prometheus();
      return rp->deliver(std::move(res));
    }
    case rest::route::events: return answer_events(self, req, rp);
    case rest::route::object_history: return answer_history(self, req, m, rp);
    case rest::route::object_diff:
    case rest::route::object_blame:
      return answer_object_change(self, req, m, rp);
    case rest::route::record: return answer_record(self, req, m, rp);
    case rest::route::snapshot:
    case rest::route::changes: return answer_window(self, req, m, rp);
    case rest::route::coverage: return answer_coverage(self, req, rp);
    // A server answers for the one cluster it watches: its requests name
    // none (the page asks, to tell a server from a hub).
    case rest::route::clusters: return rp->deliver(rest::render_clusters({}));
    case rest::route::admin_backup: return answer_backup(self, req, rp);
    case rest::route::mcp:
      // The server lets only POST through; a tool's query is a GET.
      if (req.method == "POST")
        return answer_mcp(self, req, rp);
      break;
    case rest::route::unknown: break;
  }
  rp->deliver(rest::error_response(404, "no such endpoint: " + req.path));
}

/// Delivers an answer as the reply to the request that asked. Every answer
/// is delivered inside the handler (its INDEX, DISCOVERY and ACCESS replies
/// arrive as messages), as a response promise needs.
class promise_responder final : public responder {
public:
  explicit promise_responder(caf::typed_response_promise<http_response> rp)
      : rp_(std::move(rp)) {}

  void deliver(http_response res) override { rp_.deliver(std::move(res)); }

private:
  caf::typed_response_promise<http_response> rp_;
};

} // namespace

http_handler_actor::behavior_type
http_handler(self_ptr self, http_handler_config cfg,
             std::vector<index_actor> indexes, discovery_actor discovery,
             backup_actor backup, access_actor access) {
  self->state.config = std::move(cfg);
  self->state.index_load = least_busy{indexes.size()};
  self->state.indexes = std::move(indexes);
  self->state.discovery = std::move(discovery);
  self->state.backup = std::move(backup);
  self->state.access = std::move(access);
  return {
    // From the HTTP RELAY: one request; the reply is its response.
    [self](http_request& req) -> caf::result<http_response> {
      auto rp = self->make_response_promise<http_response>();
      answer(self, req, std::make_shared<promise_responder>(rp));
      return rp;
    },
    // From DISCOVERY: the types queries resolve against from now on.
    [self](kube::type_catalog_ptr& catalog) {
      self->state.catalog = std::move(catalog);
    },
  };
}

} // namespace kws
