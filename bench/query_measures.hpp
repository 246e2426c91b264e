// Phase 2 of kws_bench: query latencies over the store the run built (or
// kept, with --queries-only).
#pragma once

#include "bench/bench_options.hpp"
#include "bench/json_out.hpp"
#include "bench/workload.hpp"
#include "storage/rocks_store.hpp"

#include <cstdint>
#include <random>

namespace kws::bench {

/// The `q`-th object history asked for: Pods twice as often as
/// Deployments, ReplicaSets and ConfigMaps, each object one of `names`'.
history_query history_query_for(const workload& names, unsigned q,
                                std::mt19937_64& rng);

/// A filtered page: updated Pods of a random namespace, 1000 at most, from
/// a random start in [from_ns, to_ns).
event_query page_query_for(std::mt19937_64& rng, int64_t from_ns,
                           int64_t to_ns);

/// Object histories and filtered pages over `store`, written to `js`. The
/// objects asked for come from the workload's first events, so they exist
/// in any store the same seed built.
void measure_queries(const options& opt, storage::rocks_store& store,
                     json_out& js);

/// `--queries-only`: the query measures over a kept store.
int queries_only(const options& opt);

} // namespace kws::bench
