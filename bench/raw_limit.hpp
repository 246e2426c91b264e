// Phase 4 of kws_bench: the raw limit of the machine with the same bytes
// (RapidJSON parse + RocksDB WriteBatch with the store's options), to set
// the pipeline's rate against.
#pragma once

#include "bench/bench_options.hpp"
#include "bench/json_out.hpp"

#include <filesystem>

namespace kws::bench {

/// Runs the raw limit in `dir` and reports it next to the pipeline's
/// `ev_s` events per second.
void measure_raw(const options& opt, const std::filesystem::path& dir,
                 double ev_s, json_out& js);

} // namespace kws::bench
