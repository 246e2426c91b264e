// ACCESS: answers "who holds this token and what may they read" for the
// HTTP HANDLER by asking the apiserver (TokenReview, SubjectAccessReview,
// the namespace list) and caching the answers for a short time.
#pragma once

#include "actors/interfaces.hpp"
#include "kube/access_review.hpp"
#include "kube/ttl_cache.hpp"

#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace kws::kube {
class client;
} // namespace kws::kube

namespace kws {

/// Configuration of ACCESS.
struct access_config {
  /// Audiences a token must be issued for; empty means the apiserver's.
  std::vector<std::string> audiences;
  /// How long a valid token and an authorizer's answer are reused: a
  /// RoleBinding removed takes effect within this time.
  std::chrono::seconds ttl{60};
  /// How long an invalid token is remembered as invalid.
  std::chrono::seconds failure_ttl{30};
  /// Entries of each cache at most.
  size_t max_entries = 10'000;
};

/// One access request waiting for reviews.
struct access_job {
  caf::typed_response_promise<access_grant> rp;
  access_request req;
  std::optional<caller> who;
  /// Answers still awaited before the job is planned again.
  size_t waiting = 0;
};

/// State of ACCESS: the caches, the reviews in flight and who waits on them.
struct access_state {
  explicit access_state(access_actor::pointer self) : self{self} {}

  access_actor::pointer self;
  access_config config;
  std::shared_ptr<kube::client> client;
  /// By token digest: the caller, or nothing for an invalid token.
  kube::ttl_cache<std::optional<caller>> tokens{10'000};
  /// By caller and review key: whether the authorizer allowed it.
  kube::ttl_cache<bool> reviews{10'000};
  std::optional<std::vector<std::string>> namespaces;
  std::chrono::steady_clock::time_point namespaces_expire;
  uint64_t next_job = 0;
  std::unordered_map<uint64_t, access_job> jobs;
  /// Cache key of a review or token in flight -> the jobs waiting on it.
  std::unordered_map<std::string, std::vector<uint64_t>> waiters;

  static inline const char* name = "access";
};

/// Implements ACCESS over `client` (its own connections, so reviews never
/// queue behind the watchers' lists).
access_actor::behavior_type
access(access_actor::stateful_pointer<access_state> self, access_config cfg,
       std::shared_ptr<kube::client> client);

/// The cache key of `who`'s review `key`; exposed for tests.
std::string review_cache_key(const caller& who, const kube::review_key& key);

} // namespace kws
