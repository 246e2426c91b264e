// kws_bench: measures ingest through the real pipeline next to two limits
// over the same store and events (`limits.hpp`: the physical one, and the
// service's own steps without actors), queries while ingest runs and at
// rest, retention, disk bytes per stored event and memory by phase. Writes
// one JSON object to --out.
//
//   kws_bench --events N --seed S --out FILE.json [--dir DIR] [--days D]
//             [--queries Q] [--templates DIR] [--live-objects N]
//             [--prefill N] [--keep] [--rocksdb-stats FILE] [--queries-only]
//             [--read-threads T] [--during-seconds S] [--during-rate R]
//             [--wrk PATH] [--wrk-seconds S]
//
// The phases live in the files next to this one; main runs them in order.
#include "bench/bench_options.hpp"
#include "bench/during_ingest.hpp"
#include "bench/json_out.hpp"
#include "bench/limits.hpp"
#include "bench/pipeline_ingest.hpp"
#include "bench/prefill.hpp"
#include "bench/process_stats.hpp"
#include "bench/query_measures.hpp"
#include "bench/raw_limit.hpp"
#include "bench/resource_use.hpp"
#include "bench/retention.hpp"
#include "bench/workload.hpp"
#include "storage/rocks_store.hpp"
#include "util/process_memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace fs = std::filesystem;
using namespace kws;
using namespace kws::bench;

int main(int argc, char** argv) {
  // The service's allocator settings (app/main.cpp).
  kws::process_memory::limit_arenas(kws::process_memory::service_arenas);
  auto opt = parse_options(argc, argv);
  if (opt.queries_only)
    return queries_only(opt);
  fs::path root = opt.dir.empty()
    ? fs::temp_directory_path() / ("kws-bench-" + std::to_string(::getpid()))
    : fs::path{opt.dir};
  fs::remove_all(root);
  fs::create_directories(root);
  auto store_dir = root / "store";
  auto raw_dir = root / "raw";
  json_out js;
  js.num("events", static_cast<double>(opt.events));
  js.num("seed", static_cast<double>(opt.seed));
  js.num("days", opt.days);
  js.num("live_objects", static_cast<double>(opt.live_objects));

  // 1. Ingest through the pipeline.
  std::atomic<int64_t> fake_now{start_ns};
  storage::store_options sopts;
  sopts.path = store_dir.string();
  sopts.read_threads = opt.read_threads;
  sopts.clock = [&fake_now] { return fake_now.load(); };
  auto opened = storage::rocks_store::open(sopts);
  if (!opened) {
    std::fprintf(stderr, "cannot open store: %s\n",
                 to_string(opened.error()).c_str());
    return 1;
  }
  auto store = std::make_shared<storage::rocks_store>(std::move(*opened));
  // One workload over both phases: the measured ingest continues the
  // prefill's objects and time line.
  bench::workload w(opt.seed, start_ns,
                    static_cast<int64_t>(opt.days) * day_ns
                      / static_cast<int64_t>(opt.prefill + opt.events),
                    opt.templates, opt.live_objects);
  reset_peak_rss();
  prefill_phase(opt, w, *store, fake_now, js);
  js.num("peak_rss_mb_prefill", static_cast<double>(peak_rss_kib()) / 1024.0);
  if (opt.prefill > 0) {
    // The pipeline and both limits start from the same store at rest.
    settle_compactions(*store, js, "prefill_settle_seconds");
  }
  // The limits write the measured ingest's events into copies of the store
  // as it is now.
  const workload limit_events = w;
  auto limit_copies = copy_for_limits(*store, root);
  std::fprintf(stderr, "pipeline ingest of %" PRIu64 " events...\n",
               opt.events);
  gen_stats gs;
  auto ing = run_pipeline(opt, w, store, fake_now, gs, root / "streams",
                          pace{opt.events, 0});
  auto rss_ingest = peak_rss_kib();
  auto rss_during = measure_during_ingest(opt, w, store, fake_now,
                                          root / "streams-during", js);
  if (!opt.rocksdb_stats.empty()) {
    // Since the store opened: the prefill's compactions count too.
    std::ofstream out{opt.rocksdb_stats};
    out << store->statistics();
  }
  if (auto err = store->flush()) {
    std::fprintf(stderr, "flush failed: %s\n", to_string(err).c_str());
    return 1;
  }
  settle_compactions(*store, js, "compaction_settle_seconds");
  auto disk = measure(store_dir);
  ing.stored = store->next_sequence() - 1; // the paced ingest's too
  auto ev_s = report_ingest(ing, gs, disk, rss_ingest, js);

  // 2. Queries over the store just built, at rest.
  reset_peak_rss();
  measure_queries(opt, *store, js);
  auto rss_queries = peak_rss_kib();
  js.num("peak_rss_mb_queries_at_rest",
         static_cast<double>(rss_queries) / 1024.0);
  js.num("peak_rss_mb",
         static_cast<double>(std::max({rss_ingest, rss_during, rss_queries}))
           / 1024.0);
  js.num("rss_mb_after_queries",
         static_cast<double>(current_rss_kib()) / 1024.0);

  // 3. Retention: drop the first day.
  measure_retention(opt, *store, store_dir, js);
  store.reset();

  // 4. The limits: the raw one (an empty database, kept to compare with
  // earlier results), then the physical and same-keys ones.
  std::fprintf(stderr, "raw limit...\n");
  measure_raw(opt, raw_dir, ev_s, js);
  measure_limits(opt, limit_events, limit_copies, ev_s, js);
  auto rc = write_json(opt, js);
  if (!opt.keep)
    fs::remove_all(root);
  return rc;
}
