// The prefill writes with the service's pure steps (scan, build, link
// Events, write) on one thread and no actors: millions of records in
// minutes, where the pipeline would take far longer.
#include "bench/prefill.hpp"

#include "actors/event_links.hpp"
#include "actors/watcher.hpp"
#include "bench/generated_types.hpp"
#include "bench/generation_clock.hpp"
#include "bench/resource_use.hpp"
#include "kube/wire.hpp"
#include "util/process_memory.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace kws::bench {

direct_write write_directly(const options& opt, bench::workload& w,
                            storage::rocks_store& store,
                            std::atomic<int64_t>& fake_now, uint64_t count) {
  direct_write res;
  auto t_start = clk::now();
  auto cpu_start = process_cpu_s();
  generation_clock gen;
  auto types = all_types();
  kind_index kinds;
  kinds.reset(types);
  std::vector<watch_event> pending[num_kinds];
  auto write = [&](size_t k) {
    size_t bad = 0;
    auto batch
      = records_from_events(types[k], pending[k], true, w.now_ns(), bad);
    pending[k].clear();
    if (bad > 0) {
      std::fprintf(stderr, "prefill: %zu malformed objects\n", bad);
      std::exit(1);
    }
    if (static_cast<kind>(k) == kind::event)
      link_events(batch.events, kinds);
    fake_now = w.now_ns();
    auto written = store.write(
      batch.events, {{batch.group_resource, batch.resource_version}});
    if (!written) {
      std::fprintf(stderr, "prefill: %s\n", to_string(written.error()).c_str());
      std::exit(1);
    }
    res.stored += written->written;
  };
  std::string line;
  for (uint64_t i = 0; i < count; ++i) {
    line.clear();
    auto k = static_cast<size_t>(gen.next(w, line).k);
    if (!line.empty() && line.back() == '\n')
      line.pop_back(); // as the splitter hands lines over
    auto x = kube::scan_watch_line(line);
    if (!x || x->is_error) {
      std::fprintf(stderr, "prefill: malformed line\n");
      std::exit(1);
    }
    pending[k].push_back(std::move(x->event));
    if (pending[k].size() >= opt.storage_batch)
      write(k);
    if ((i + 1) % 1'000'000 == 0)
      std::fprintf(stderr, "written directly: %" PRIu64 " events\n", i + 1);
  }
  for (size_t k = 0; k < num_kinds; ++k)
    if (!pending[k].empty())
      write(k);
  res.wall_s = seconds(clk::now() - t_start);
  res.cpu_s = process_cpu_s() - cpu_start;
  res.gen_wall_s = seconds(gen.wall);
  res.gen_cpu_s = gen.cpu_s;
  return res;
}

void prefill_phase(const options& opt, workload& w, storage::rocks_store& store,
                   std::atomic<int64_t>& fake_now, json_out& js) {
  js.num("prefill_events", static_cast<double>(opt.prefill));
  if (opt.prefill > 0) {
    std::fprintf(stderr, "prefill of %" PRIu64 " events...\n", opt.prefill);
    auto done = write_directly(opt, w, store, fake_now, opt.prefill);
    js.num("prefill_records", static_cast<double>(done.stored));
    js.num("prefill_seconds", done.wall_s);
    js.num("prefill_events_per_s",
           static_cast<double>(opt.prefill) / (done.wall_s - done.gen_wall_s));
    // The service, which wrote those records over days, returned the
    // memory its writes freed as it went (actors/storage.cpp).
    kws::process_memory::release_free();
  }
}

} // namespace kws::bench
