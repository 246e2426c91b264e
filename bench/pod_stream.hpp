// Seeded generator of one Pod watch stream for the real-path benchmark: an
// initial list and then ADDED, MODIFIED and DELETED events with increasing
// resourceVersions. Every Pod is a copy of the captured bench/templates/
// pod.json with its identity, times and status varied, as in workload.cpp.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace kws::bench {

/// The Pods of one run: what the list returns and the events that follow.
struct pod_stream {
  /// resourceVersion of the list; event i has `list_rv + 1 + i`.
  uint64_t list_rv = 0;
  /// Compact JSON of each listed Pod.
  std::vector<std::string> list_items;
  /// One watch line per event (`{"type":..,"object":..}\n`).
  std::vector<std::string> lines;
};

/// The resourceVersion of a list of `list_pods` Pods (the first listed Pod
/// has 1001): both processes know it without talking.
inline uint64_t list_rv_for(size_t list_pods) {
  return 1000 + list_pods;
}

/// Generates `list_pods` listed Pods and `events` watch events.
/// @param templates directory holding pod.json.
/// Throws `std::runtime_error` when the template cannot be read.
pod_stream make_pod_stream(const std::filesystem::path& templates,
                           uint64_t seed, size_t list_pods, size_t events);

} // namespace kws::bench
