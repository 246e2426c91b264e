// What both generators of Pod traffic (workload.cpp for kws_bench,
// pod_stream.cpp for kws_real_path_bench) vary in a captured object: one
// place, so both benchmarks store objects of the same shape and size.
#pragma once

#include <rapidjson/document.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>

namespace kws::bench {

/// Images and app names the generated objects draw from.
inline constexpr std::array<const char*, 8> images{
  {"registry.k8s.io/pause:3.10", "docker.io/library/nginx:1.27.3",
   "quay.io/prometheus/node-exporter:v1.8.2", "ghcr.io/acme/checkout:2.14.1",
   "docker.io/library/redis:7.4.1", "gcr.io/distroless/static:nonroot",
   "ghcr.io/acme/payments-api:5.2.0", "docker.io/grafana/loki:3.3.0"}};

inline constexpr std::array<const char*, 6> apps{
  {"checkout", "payments", "catalog", "frontend", "search", "ledger"}};

/// Sets the string at `path` when the template has it (shapes stay real:
/// nothing is added that the captured object lacks).
void set(rapidjson::Document& doc, const char* path, const std::string& x);

/// Sets the number at `path` when the template has one there.
void set(rapidjson::Document& doc, const char* path, uint64_t x);

/// Sets the string member `member` of every element of the array at `path`
/// (managedFields times, condition transition times) to `x`.
void set_in_each(rapidjson::Document& doc, const char* path, const char* member,
                 const std::string& x);

/// The status and placement of Pod `id` at `generation` in a copy of the
/// captured Pod: IPs, node, start time, restarts, a fresh container id,
/// image, condition times. `owner` is its ReplicaSet's name; `now` and
/// `created` are RFC 3339 times.
void vary_pod(rapidjson::Document& doc, uint64_t id, uint64_t generation,
              const std::string& owner, const std::string& now,
              const std::string& created, std::mt19937_64& rng);

} // namespace kws::bench
