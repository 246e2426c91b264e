#include "bench/change_queries.hpp"

#include "bench/percentile.hpp"
#include "bench/workload.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <vector>

namespace kws::bench {

change_query_times measure_changes(const storage::rocks_store& store,
                                   uint64_t seed, int64_t start_ns,
                                   int64_t end_ns, unsigned queries) {
  using clk = std::chrono::steady_clock;
  std::mt19937_64 rng(seed + 11);
  change_query_times result;
  std::vector<double> by_ns;
  std::vector<double> all;
  auto run = [&](const std::string& ns, std::vector<double>& out) {
    changes_query q;
    q.window.start_ns = start_ns;
    q.window.end_ns = end_ns;
    q.window.ns = ns;
    q.window.limit = 100;
    auto t0 = clk::now();
    auto answer = store.changes(q);
    out.push_back(
      std::chrono::duration<double, std::milli>(clk::now() - t0).count());
    if (!answer)
      ++result.failures;
    else if (ns.empty())
      result.all_entries = static_cast<double>(answer->count);
  };
  for (unsigned i = 0; i < queries; ++i)
    run(workload::namespace_name(
          static_cast<unsigned>(rng() % workload::num_namespaces)),
        by_ns);
  for (unsigned i = 0; i < std::max(1u, queries / 5); ++i)
    run({}, all);
  result.namespace_p50_ms = percentile(by_ns, 0.5);
  result.namespace_p99_ms = percentile(by_ns, 0.99);
  result.all_p50_ms = percentile(all, 0.5);
  result.all_p99_ms = percentile(all, 0.99);
  return result;
}

} // namespace kws::bench
