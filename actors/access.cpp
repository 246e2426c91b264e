// Each request becomes a job that is planned (kube::plan_access) over the
// cached answers; what is missing is asked once however many jobs wait for
// it, and every answer wakes the jobs waiting on it to be planned again.
#include "actors/access.hpp"

#include "actors/weak_handle.hpp"
#include "kube/client.hpp"
#include "storage/secret_digest.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <type_traits>
#include <utility>

namespace kws {

static_assert(!std::is_aggregate_v<access_state>);

namespace {

using self_ptr = access_actor::stateful_pointer<access_state>;

/// The cache key of a token: its SHA-256, so no token stays in memory
/// longer than its request.
std::string token_cache_key(std::string_view token) {
  return "token:" + storage::sha256_digest(token);
}

constexpr std::string_view namespaces_key = "namespaces";

void count_review(std::string_view kind, bool ok) {
  std::string labels = "kind=\"";
  labels += kind;
  labels += ok ? "\",outcome=\"ok\"" : "\",outcome=\"error\"";
  metrics::get_counter("kws_access_reviews_total",
                       "Reviews asked of the apiserver to answer queries.",
                       labels)
    .inc();
}

/// Calls `f(handle)` with ACCESS's handle if it is still alive: the
/// client's callbacks run on its io thread after ACCESS may have stopped.
template <class F>
auto to_self(self_ptr self, F f) {
  return
    [weak = weak_handle<access_actor>{self}, f = std::move(f)](auto&&... args) {
      if (auto hdl = weak.lock())
        f(*hdl, std::forward<decltype(args)>(args)...);
    };
}

void fail(self_ptr self, uint64_t id, const caf::error& err) {
  auto it = self->state.jobs.find(id);
  if (it == self->state.jobs.end())
    return;
  it->second.rp.deliver(err);
  self->state.jobs.erase(it);
}

/// Makes job `id` wait for `key`; `ask` runs when nobody asked for it yet.
template <class Ask>
void wait_for(self_ptr self, uint64_t id, const std::string& key, Ask ask) {
  ++self->state.jobs.at(id).waiting;
  auto& list = self->state.waiters[key];
  list.push_back(id);
  if (list.size() == 1)
    ask();
}

void ask_token(self_ptr self, const std::string& key,
               const std::string& token) {
  auto& st = self->state;
  st.client->request(
    "POST", std::string{kube::token_review_path},
    kube::token_review_body(token, st.config.audiences),
    to_self(self,
            [key](const access_actor& hdl, caf::expected<std::string> body) {
              caller who;
              caf::error err;
              if (!body)
                err = body.error();
              else if (auto c = kube::parse_token_review(*body))
                who = std::move(*c);
              else
                err = c.error();
              caf::anon_send(hdl, atom::internal_v, atom::authn_v, key,
                             std::move(who), std::move(err));
            }));
}

void ask_review(self_ptr self, const std::string& key, const caller& who,
                const kube::review_key& what) {
  self->state.client->request(
    "POST", std::string{kube::access_review_path},
    kube::access_review_body(who, what),
    to_self(self,
            [key](const access_actor& hdl, caf::expected<std::string> body) {
              bool allowed = false;
              caf::error err;
              if (!body)
                err = body.error();
              else if (auto a = kube::parse_access_review(*body))
                allowed = *a;
              else
                err = a.error();
              caf::anon_send(hdl, atom::internal_v, atom::authz_v, key, allowed,
                             std::move(err));
            }));
}

void ask_namespaces(self_ptr self) {
  self->state.client->get(
    "/api/v1/namespaces",
    to_self(self, [](const access_actor& hdl, caf::expected<std::string> body) {
      std::vector<std::string> names;
      caf::error err;
      if (!body)
        err = body.error();
      else if (auto n = kube::parse_namespace_names(*body))
        names = std::move(*n);
      else
        err = n.error();
      caf::anon_send(hdl, atom::internal_v, atom::list_v, std::move(names),
                     std::move(err));
    }));
}

void advance(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto& job = st.jobs.at(id);
  auto now = self->clock().now();
  if (!job.who) {
    auto key = token_cache_key(job.req.token);
    const auto* known = st.tokens.find(key, now);
    if (!known)
      return wait_for(self, id, key,
                      [&] { ask_token(self, key, job.req.token); });
    if (!*known)
      return fail(
        self, id,
        caf::make_error(ec::unauthenticated, "the bearer token is not valid"));
    job.who = **known;
  }
  const caller& who = *job.who;
  auto lookup = [&](const kube::review_key& k) -> std::optional<bool> {
    if (const auto* v = st.reviews.find(review_cache_key(who, k), now))
      return *v;
    return std::nullopt;
  };
  const auto* names
    = st.namespaces && now < st.namespaces_expire ? &*st.namespaces : nullptr;
  auto plan = kube::plan_access(job.req, lookup, names);
  if (plan.grant) {
    plan.grant->who = who;
    job.rp.deliver(std::move(*plan.grant));
    st.jobs.erase(id);
    return;
  }
  if (plan.needs_namespaces)
    return wait_for(self, id, std::string{namespaces_key},
                    [&] { ask_namespaces(self); });
  for (const auto& k : plan.missing) {
    auto key = review_cache_key(who, k);
    wait_for(self, id, key, [&] { ask_review(self, key, who, k); });
  }
}

/// Wakes the jobs waiting on `key`: each is planned again once nothing it
/// waits for is missing, or fails with `err`.
void wake(self_ptr self, const std::string& key, const caf::error& err) {
  auto it = self->state.waiters.find(key);
  if (it == self->state.waiters.end())
    return;
  auto ids = std::move(it->second);
  self->state.waiters.erase(it);
  for (auto id : ids) {
    auto job = self->state.jobs.find(id);
    if (job == self->state.jobs.end())
      continue;
    if (err)
      fail(self, id, err);
    else if (--job->second.waiting == 0)
      advance(self, id);
  }
}

/// A review the apiserver could not answer fails the query with 503: the
/// answer is unknown, not "no".
caf::error unavailable(const char* what, const caf::error& err) {
  return caf::make_error(ec::unavailable,
                         std::string{"cannot "} + what
                           + " with the apiserver: " + render(err));
}

} // namespace

std::string review_cache_key(const caller& who, const kube::review_key& key) {
  std::string out = "review:";
  for (const auto* part : {&who.user, &who.uid, &who.extra_json, &key.ns,
                           &key.group, &key.resource}) {
    out += *part;
    out += '\n';
  }
  for (const auto& g : who.groups) {
    out += g;
    out += '\n';
  }
  return out;
}

access_actor::behavior_type access(self_ptr self, access_config cfg,
                                   std::shared_ptr<kube::client> client) {
  auto& st = self->state;
  st.tokens = kube::ttl_cache<std::optional<caller>>{cfg.max_entries};
  st.reviews = kube::ttl_cache<bool>{cfg.max_entries};
  st.config = std::move(cfg);
  st.client = std::move(client);
  return {
    [self](access_request& req) -> caf::result<access_grant> {
      auto& st = self->state;
      auto id = st.next_job++;
      auto rp = self->make_response_promise<access_grant>();
      // A caller a trusted front proxy named needs no TokenReview.
      std::optional<caller> who;
      if (!req.proxied.user.empty())
        who = req.proxied;
      st.jobs.emplace(id, access_job{rp, std::move(req), std::move(who), 0});
      advance(self, id);
      return rp;
    },
    [self](atom::internal, atom::authn, const std::string& key, caller& who,
           const caf::error& err) {
      auto& st = self->state;
      auto now = self->clock().now();
      count_review("token", !err || err == ec::unauthenticated);
      if (!err)
        st.tokens.put(key, std::move(who), now + st.config.ttl, now);
      else if (err == ec::unauthenticated)
        st.tokens.put(key, std::nullopt, now + st.config.failure_ttl, now);
      else
        KWS_WARN("access: a TokenReview failed: {}", err);
      wake(self, key,
           !err || err == ec::unauthenticated
             ? caf::error{}
             : unavailable("check the bearer token", err));
    },
    [self](atom::internal, atom::authz, const std::string& key, bool allowed,
           const caf::error& err) {
      auto& st = self->state;
      auto now = self->clock().now();
      count_review("access", !err);
      if (!err)
        st.reviews.put(key, allowed, now + st.config.ttl, now);
      else
        KWS_WARN("access: a SubjectAccessReview failed: {}", err);
      wake(self, key, err ? unavailable("check permissions", err) : err);
    },
    [self](atom::internal, atom::list, std::vector<std::string>& names,
           const caf::error& err) {
      auto& st = self->state;
      count_review("namespaces", !err);
      if (!err) {
        st.namespaces = std::move(names);
        st.namespaces_expire = self->clock().now() + st.config.ttl;
      } else {
        KWS_WARN("access: listing the namespaces failed: {}", err);
      }
      wake(self, std::string{namespaces_key},
           err ? unavailable("list the namespaces", err) : err);
    },
  };
}

} // namespace kws
