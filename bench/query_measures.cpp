// Times object histories, filtered pages and change summaries; the
// objects asked for are re-generated from the seed, so they exist in any
// store the same seed built.
#include "bench/query_measures.hpp"

#include "bench/change_queries.hpp"
#include "bench/process_stats.hpp"
#include "bench/resource_use.hpp"
#include "bench/workload.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace kws::bench {

namespace fs = std::filesystem;

namespace {

struct latency {
  std::vector<double> ms;
  double pct(double p) {
    if (ms.empty())
      return 0;
    std::sort(ms.begin(), ms.end());
    auto idx = static_cast<size_t>(
      std::llround(p * static_cast<double>(ms.size() - 1)));
    return ms[std::min(idx, ms.size() - 1)];
  }
  double mean() const {
    double s = 0;
    for (auto x : ms)
      s += x;
    return ms.empty() ? 0 : s / static_cast<double>(ms.size());
  }
};

} // namespace

history_query history_query_for(const workload& names, unsigned q,
                                std::mt19937_64& rng) {
  const kind kinds[] = {kind::pod, kind::pod, kind::deployment,
                        kind::replicaset, kind::configmap};
  auto k = kinds[q % 5];
  auto [ns, name] = names.pick_object(k, rng);
  history_query hq;
  hq.ns = ns;
  hq.resource = bench::info(k).plural;
  hq.name = name;
  return hq;
}

event_query page_query_for(std::mt19937_64& rng, int64_t from_ns,
                           int64_t to_ns) {
  event_query eq;
  eq.ns = workload::namespace_name(
    static_cast<unsigned>(rng() % workload::num_namespaces));
  eq.resource = "pods";
  eq.verb = "update";
  eq.limit = 1000;
  eq.start_ns = from_ns
    + static_cast<int64_t>(rng() % static_cast<uint64_t>(to_ns - from_ns));
  return eq;
}

namespace {

/// Writes change summary latencies to `js` under keys starting with
/// `prefix`, and a line to stderr.
void report_changes(json_out& js, const std::string& prefix, const char* label,
                    const bench::change_query_times& t) {
  js.num((prefix + "namespace_p50_ms").c_str(), t.namespace_p50_ms);
  js.num((prefix + "namespace_p99_ms").c_str(), t.namespace_p99_ms);
  js.num((prefix + "all_p50_ms").c_str(), t.all_p50_ms);
  js.num((prefix + "all_p99_ms").c_str(), t.all_p99_ms);
  js.num((prefix + "all_entries").c_str(), t.all_entries);
  js.num((prefix + "failures").c_str(), static_cast<double>(t.failures));
  std::fprintf(stderr,
               "%s: one namespace p50 %.1f p99 %.1f ms; all p50 %.1f p99 "
               "%.1f ms\n",
               label, t.namespace_p50_ms, t.namespace_p99_ms, t.all_p50_ms,
               t.all_p99_ms);
}

} // namespace

/// Object histories and filtered pages over `store`, written to `js`. The
/// objects asked for come from the workload's first events, so they exist
/// in any store the same seed built.
void measure_queries(const options& opt, storage::rocks_store& store,
                     json_out& js) {
  std::fprintf(stderr, "queries...\n");
  bench::workload names(opt.seed, start_ns, 1, opt.templates, opt.live_objects);
  std::string scratch;
  for (uint64_t i = 0; i < std::min<uint64_t>(opt.events, 200'000); ++i) {
    scratch.clear();
    names.next(scratch);
  }
  std::mt19937_64 qrng(opt.seed + 7);
  latency hist, page;
  double hist_records = 0, page_records = 0;
  // Event records found through the correlator's links.
  double linked = 0;
  for (unsigned q = 0; q < opt.queries; ++q) {
    auto hq = history_query_for(names, q, qrng);
    auto t0 = clk::now();
    auto h = store.history(hq);
    hist.ms.push_back(seconds(clk::now() - t0) * 1e3);
    if (h) {
      hist_records += static_cast<double>(h->watch_events.size()
                                          + h->related_events.size());
      linked += static_cast<double>(h->related_events.size());
    }
  }
  for (unsigned q = 0; q < opt.queries; ++q) {
    auto eq = page_query_for(
      qrng, start_ns, start_ns + static_cast<int64_t>(opt.days - 1) * day_ns);
    auto t0 = clk::now();
    auto p = store.query(eq);
    page.ms.push_back(seconds(clk::now() - t0) * 1e3);
    if (p)
      page_records += static_cast<double>(p->records.size());
    if (p && std::getenv("KWS_BENCH_DEBUG") && q < 12)
      std::fprintf(stderr, "page %s from day %.2f: %zu records, more=%d\n",
                   eq.ns.c_str(),
                   static_cast<double>(eq.start_ns - start_ns) / day_ns,
                   p->records.size(), p->has_more ? 1 : 0);
  }
  js.num("queries", opt.queries);
  js.num("read_threads", opt.read_threads);
  js.num("history_p50_ms", hist.pct(0.5));
  js.num("history_p99_ms", hist.pct(0.99));
  js.num("history_mean_records", hist_records / opt.queries);
  js.num("linked_events", linked);
  js.num("page_p50_ms", page.pct(0.5));
  js.num("page_p99_ms", page.pct(0.99));
  js.num("page_mean_records", page_records / opt.queries);
  // "What changed on the first day", and "between 12:00 and 13:00" of
  // it: the incident's question, a window that holds part of a partition.
  constexpr int64_t hour_ns = int64_t{3600} * 1'000'000'000;
  report_changes(js, "changes_", "changes",
                 bench::measure_changes(store, opt.seed, start_ns,
                                        start_ns + day_ns, opt.queries / 4));
  report_changes(
    js, "changes_hour_", "changes over an hour",
    bench::measure_changes(store, opt.seed, start_ns + 12 * hour_ns,
                           start_ns + 13 * hour_ns, opt.queries / 4));
  std::fprintf(stderr,
               "history p50 %.3f p99 %.3f ms; page p50 %.3f p99 %.3f ms\n",
               hist.pct(0.5), hist.pct(0.99), page.pct(0.5), page.pct(0.99));
}

int queries_only(const options& opt) {
  storage::store_options sopts;
  sopts.path = (fs::path{opt.dir} / "store").string();
  sopts.read_threads = opt.read_threads;
  if (!fs::exists(fs::path{sopts.path} / "CURRENT")) {
    std::fprintf(stderr, "no store in %s\n", sopts.path.c_str());
    return 1;
  }
  auto store = storage::rocks_store::open(sopts);
  if (!store) {
    std::fprintf(stderr, "cannot open store: %s\n",
                 to_string(store.error()).c_str());
    return 1;
  }
  json_out js;
  js.num("events", static_cast<double>(opt.events));
  js.num("seed", static_cast<double>(opt.seed));
  js.num("stored_records", static_cast<double>(store->next_sequence() - 1));
  measure_queries(opt, *store, js);
  js.num("peak_rss_mb", static_cast<double>(peak_rss_kib()) / 1024.0);
  return write_json(opt, js);
}

} // namespace kws::bench
