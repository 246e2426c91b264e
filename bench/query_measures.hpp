// Phase 2 of kws_bench: query latencies over the store the run built (or
// kept, with --queries-only).
#pragma once

#include "bench/bench_options.hpp"
#include "bench/json_out.hpp"
#include "storage/rocks_store.hpp"

namespace kws::bench {

/// Object histories and filtered pages over `store`, written to `js`. The
/// objects asked for come from the workload's first events, so they exist
/// in any store the same seed built.
void measure_queries(const options& opt, storage::rocks_store& store,
                     json_out& js);

/// `--queries-only`: the query measures over a kept store.
int queries_only(const options& opt);

} // namespace kws::bench
