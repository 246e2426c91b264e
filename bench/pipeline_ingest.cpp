// The measured ingest: the traffic is generated into one file per kind
// first, so generation costs nothing; then the service's own WATCHERs (one
// per kind, each driving its reflector), CORRELATOR and STORAGE ingest it
// from those files replayed as watch streams (`replay_source.hpp`).
#include "bench/pipeline_ingest.hpp"

#include "actors/correlator.hpp"
#include "actors/interfaces.hpp"
#include "actors/register.hpp"
#include "actors/scheduler.hpp"
#include "actors/storage.hpp"
#include "actors/watcher.hpp"
#include "bench/generated_types.hpp"
#include "bench/process_stats.hpp"
#include "bench/replay_source.hpp"
#include "bench/thread_cpu.hpp"
#include "util/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace kws::bench {

namespace fs = std::filesystem;

namespace {

/// Generates the traffic into one stream file per kind (so generation costs
/// nothing during the measured ingest) and returns the slices of all files
/// in generated order: one per `watcher_batch` events of a kind, stamped
/// with the generated time.
std::vector<stream_slice> generate_streams(const options& opt,
                                           bench::workload& w, uint64_t events,
                                           const fs::path& dir, gen_stats& gs) {
  auto t0 = clk::now();
  std::vector<stream_slice> schedule;
  std::FILE* files[num_kinds];
  std::string bufs[num_kinds];
  size_t counts[num_kinds] = {};
  fs::create_directories(dir);
  for (size_t k = 0; k < num_kinds; ++k) {
    auto path = dir / bench::info(static_cast<kind>(k)).plural;
    files[k] = std::fopen(path.c_str(), "wb");
    if (files[k] == nullptr) {
      std::perror(path.c_str());
      std::exit(1);
    }
  }
  auto cut = [&](size_t k) {
    schedule.push_back({k, bufs[k].size(), w.now_ns(), counts[k]});
    if (std::fwrite(bufs[k].data(), 1, bufs[k].size(), files[k])
        != bufs[k].size()) {
      std::perror("write stream");
      std::exit(1);
    }
    bufs[k].clear();
    counts[k] = 0;
  };
  std::string line;
  for (uint64_t i = 0; i < events; ++i) {
    line.clear();
    auto ev = w.next(line);
    auto k = static_cast<size_t>(ev.k);
    bufs[k] += line;
    gs.bytes += line.size();
    gs.count[k]++;
    gs.kind_bytes[k] += line.size();
    if (++counts[k] >= opt.watcher_batch)
      cut(k);
  }
  for (size_t k = 0; k < num_kinds; ++k) {
    if (counts[k] > 0)
      cut(k);
    std::fclose(files[k]);
  }
  gs.seconds = seconds(clk::now() - t0);
  return schedule;
}

/// Watch events made durable by every WATCHER so far.
uint64_t durable_events() {
  // The WATCHER observes this once per event when its batch is durable.
  static auto& delivered = metrics::get_histogram(
    "kws_watch_delivery_seconds",
    "Time from reading a change off the watch stream to its record being "
    "durable.");
  return delivered.count();
}

/// Waits until `expected` more events than `before` are durable; exits
/// the bench when none became durable for a minute.
void await_durable(uint64_t before, uint64_t expected) {
  auto seen = durable_events();
  auto progress_at = clk::now();
  while (seen - before < expected) {
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
    auto now = durable_events();
    if (now != seen) {
      seen = now;
      progress_at = clk::now();
    } else if (clk::now() - progress_at > std::chrono::minutes{1}) {
      std::fprintf(
        stderr, "ingest stalled: %" PRIu64 " of %" PRIu64 " events durable\n",
        seen - before, expected);
      std::exit(1);
    }
  }
}

} // namespace

void report_cpu_by_thread(const std::string& prefix, const ingest_result& ing,
                          json_out& js) {
  for (const auto& [name, cpu_s] : ing.cpu_by_thread) {
    if (cpu_s <= 0)
      continue;
    auto key = prefix;
    for (char c : name)
      key += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
    js.num(key.c_str(), cpu_s * 1e6 / static_cast<double>(ing.events));
  }
}

ingest_result run_pipeline(const options& opt, bench::workload& w,
                           std::shared_ptr<storage::rocks_store> store,
                           std::atomic<int64_t>& fake_now, gen_stats& gs,
                           const fs::path& stream_dir, const pace& how,
                           const std::function<void()>& while_ingesting) {
  ingest_result res;
  auto schedule = generate_streams(opt, w, how.events, stream_dir, gs);
  res.batches = schedule.size();
  auto types = all_types();
  // The WATCHERs resume from a checkpoint, as after a restart over a
  // store that already holds the prefill: they watch, never list.
  storage::checkpoint_map positions;
  for (const auto& type : types)
    positions[type.group_resource()] = "1";
  if (auto written = store->write({}, positions); !written) {
    std::fprintf(stderr, "cannot write the checkpoints: %s\n",
                 to_string(written.error()).c_str());
    std::exit(1);
  }
  // The measured phase's own peak, not the prefill's or the generator's.
  reset_peak_rss();
  res.start = measure_memory();
  caf::actor_system_config cfg;
  add_actor_types(cfg);
  tune_scheduler(cfg);
  caf::actor_system sys{cfg};
  storage_config scfg;
  scfg.batch_size = opt.storage_batch;
  scfg.retention_days = 3650; // retention is measured separately
  scfg.now = [&fake_now] { return fake_now.load(); };
  auto writer = sys.spawn<caf::detached>(storage_writer, scfg, store);
  // Events go through the CORRELATOR, which links them to their objects by
  // involvedObject, as in the service.
  auto correlator = sys.spawn(kws::correlator, writer);
  caf::anon_send(correlator, types);
  replay_io io{fake_now, std::move(schedule), how.events_per_s};
  auto before = durable_events();
  auto threads_start = sample_threads();
  auto cpu_start = process_cpu_s();
  auto t_start = clk::now();
  std::vector<watcher_actor> watchers;
  for (size_t i = 0; i < num_kinds; ++i) {
    auto sink = static_cast<kind>(i) == kind::event
      ? caf::actor_cast<ingest_sink_actor>(correlator)
      : caf::actor_cast<ingest_sink_actor>(writer);
    watcher_config wcfg;
    wcfg.type = types[i];
    wcfg.now = [&fake_now] { return fake_now.load(); };
    const auto* plural = bench::info(static_cast<kind>(i)).plural;
    // No DISCOVERY: the WATCHER's status reports go nowhere.
    watchers.push_back(sys.spawn(kws::watcher, std::move(wcfg),
                                 io.source(i, stream_dir / plural, plural),
                                 sink, writer, discovery_actor{}));
  }
  io.start();
  if (while_ingesting)
    while_ingesting();
  io.wait_until_read();
  await_durable(before, how.events);
  caf::scoped_actor self{sys};
  self->request(writer, caf::infinite, atom::flush_v)
    .receive([](uint64_t) {}, [](caf::error&) {});
  res.wall_s = seconds(clk::now() - t_start);
  res.cpu_s = process_cpu_s() - cpu_start;
  res.cpu_by_thread = cpu_by_name(threads_start, sample_threads());
  res.end = measure_memory();
  res.rocks_end = store->memory();
  res.gen_s = gs.seconds;
  res.io_s = io.io_cpu_seconds();
  res.net_s = res.wall_s;
  res.events = how.events;
  res.bytes = gs.bytes;
  for (const auto& type : types)
    res.malformed
      += metrics::get_counter("kws_malformed_objects_total", "",
                              "resource=\"" + type.group_resource() + "\"")
           .value();
  for (auto& hdl : watchers) {
    self->send_exit(hdl, caf::exit_reason::user_shutdown);
    self->wait_for(hdl);
  }
  self->send_exit(correlator, caf::exit_reason::user_shutdown);
  self->send_exit(writer, caf::exit_reason::user_shutdown);
  self->wait_for(writer);
  fs::remove_all(stream_dir);
  res.stored = store->next_sequence() - 1; // sequences start at 1
  return res;
}

void settle_compactions(storage::rocks_store& store, json_out& js,
                        const char* key) {
  // Disk and queries are measured over the store at rest: right after the
  // ingest, the newest day's compactions still compete for both cores and
  // its files are not yet merged.
  auto settle_start = clk::now();
  while (store.compacting()
         && clk::now() - settle_start < std::chrono::hours{1})
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  auto settle_s = seconds(clk::now() - settle_start);
  std::fprintf(stderr, "compactions settled after %.1f s\n", settle_s);
  js.num(key, settle_s);
}

double report_ingest(const ingest_result& ing, const gen_stats& gs,
                     const dir_size& disk, long rss_ingest, json_out& js) {
  double ev_s = static_cast<double>(ing.events) / ing.net_s;
  double mb_s = static_cast<double>(ing.bytes) / 1e6 / ing.net_s;
  std::fprintf(stderr,
               "pipeline: %.0f events/s, %.1f MB/s (wall %.1fs, gen %.1fs)\n",
               ev_s, mb_s, ing.wall_s, ing.gen_s);
  js.num("workload_bytes", static_cast<double>(ing.bytes));
  for (size_t k = 0; k < num_kinds; ++k) {
    auto name = std::string{"avg_line_bytes_"}
      + bench::info(static_cast<kind>(k)).plural;
    js.num(name.c_str(),
           gs.count[k] ? static_cast<double>(gs.kind_bytes[k])
               / static_cast<double>(gs.count[k])
                       : 0);
  }
  js.num("generator_seconds", ing.gen_s);
  js.num("ingest_wall_seconds", ing.wall_s);
  js.num("ingest_seconds", ing.net_s);
  js.num("ingest_cpu_us_per_event",
         ing.cpu_s * 1e6 / static_cast<double>(ing.events));
  js.num("ingest_io_seconds", ing.io_s);
  report_cpu_by_thread("ingest_cpu_us_per_event_", ing, js);
  js.num("ingest_events_per_s", ev_s);
  js.num("ingest_mb_per_s", mb_s);
  js.num("stored_records", static_cast<double>(ing.stored));
  js.num("malformed", static_cast<double>(ing.malformed));
  js.num("disk_bytes_total", static_cast<double>(disk.total));
  js.num("disk_bytes_sst", static_cast<double>(disk.sst));
  js.num("disk_bytes_per_event",
         static_cast<double>(disk.total) / static_cast<double>(ing.stored));
  js.num("peak_rss_mb_after_ingest", static_cast<double>(rss_ingest) / 1024.0);
  for (const auto& [phase, m] :
       {std::pair{"start", ing.start}, {"end", ing.end}}) {
    std::string prefix = "ingest_";
    prefix += phase;
    prefix += '_';
    js.num((prefix + "rss_mb").c_str(), m.rss_mb);
    js.num((prefix + "heap_used_mb").c_str(), m.heap_used_mb);
    js.num((prefix + "heap_free_mb").c_str(), m.heap_free_mb);
    js.num((prefix + "heap_dirty_mb").c_str(), m.heap_dirty_mb);
    js.num((prefix + "heap_metadata_mb").c_str(), m.heap_metadata_mb);
  }
  js.num("ingest_end_block_cache_mb",
         static_cast<double>(ing.rocks_end.block_cache) / (1 << 20));
  js.num("ingest_end_memtables_mb",
         static_cast<double>(ing.rocks_end.memtables) / (1 << 20));
  js.num("ingest_end_table_readers_mb",
         static_cast<double>(ing.rocks_end.table_readers) / (1 << 20));
  return ev_s;
}

} // namespace kws::bench
