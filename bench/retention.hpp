// Phase 3 of kws_bench: retention drops the first day of the store and
// reports how long that took and how many bytes it freed.
#pragma once

#include "bench/bench_options.hpp"
#include "bench/json_out.hpp"
#include "storage/rocks_store.hpp"

#include <filesystem>

namespace kws::bench {

/// Drops the first generated day of `store` (at `store_dir`) and reports it.
void measure_retention(const options& opt, storage::rocks_store& store,
                       const std::filesystem::path& store_dir, json_out& js);

} // namespace kws::bench
