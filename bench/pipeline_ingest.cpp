// The measured ingest: the traffic is generated into one file per kind
// first, so generation costs nothing while this thread plays the kube
// client's io thread (split, scan) and bench watchers build the records
// with the service's own code, as many batches in flight as watchers.
#include "bench/pipeline_ingest.hpp"

#include "actors/correlator.hpp"
#include "actors/interfaces.hpp"
#include "actors/register.hpp"
#include "actors/scheduler.hpp"
#include "actors/storage.hpp"
#include "actors/watcher.hpp"
#include "bench/generated_types.hpp"
#include "bench/process_stats.hpp"
#include "kube/line_splitter.hpp"
#include "kube/wire.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace kws::bench {

namespace fs = std::filesystem;

namespace {

/// One watcher batch of the generated traffic: which stream, how many
/// bytes of it, and the (generated) time at which it was read.
struct batch_slice {
  size_t kind = 0;
  size_t bytes = 0;
  int64_t now_ns = 0;
};

/// Stands for one WATCHER: receives the events its reflector read and
/// builds the records with the service's own `records_from_events` (one
/// parse per object, on the actor scheduler's threads), then hands them to
/// its sink (STORAGE, or the CORRELATOR for Events), whose durable `ok` is
/// the reply.
using bench_watcher_actor = caf::typed_actor<
  caf::replies_to<std::vector<watch_event>, int64_t>::with<atom::ok>>;

/// State of a bench watcher: one actor (and so one order) per type.
struct bench_watcher_state {
  explicit bench_watcher_state(bench_watcher_actor::pointer self)
      : self{self} {}

  bench_watcher_actor::pointer self;
  resource_type type;
  ingest_sink_actor sink;
  std::atomic<uint64_t>* malformed = nullptr;
  std::atomic<int64_t>* busy_ns = nullptr;

  static inline const char* name = "bench_watcher";
};

static_assert(!std::is_aggregate_v<bench_watcher_state>);

bench_watcher_actor::behavior_type
bench_watcher(bench_watcher_actor::stateful_pointer<bench_watcher_state> self,
              resource_type type, ingest_sink_actor sink,
              std::atomic<uint64_t>* malformed, std::atomic<int64_t>* busy_ns) {
  auto& st = self->state;
  st.type = std::move(type);
  st.sink = std::move(sink);
  st.malformed = malformed;
  st.busy_ns = busy_ns;
  return {
    [self](std::vector<watch_event>& events,
           int64_t now_ns) -> caf::delegated<atom::ok> {
      auto& st = self->state;
      auto t0 = clk::now();
      size_t bad = 0;
      auto batch = records_from_events(st.type, events, true, now_ns, bad);
      *st.malformed += bad;
      *st.busy_ns
        += std::chrono::duration_cast<std::chrono::nanoseconds>(clk::now() - t0)
             .count();
      return self->delegate(st.sink, std::move(batch));
    },
  };
}

/// Generates the traffic into one stream file per kind (so generation costs
/// nothing during the measured ingest) and returns the batch schedule.
std::vector<batch_slice> generate_streams(const options& opt,
                                          bench::workload& w,
                                          const fs::path& dir, gen_stats& gs) {
  auto t0 = clk::now();
  std::vector<batch_slice> schedule;
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
    schedule.push_back({k, bufs[k].size(), w.now_ns()});
    if (std::fwrite(bufs[k].data(), 1, bufs[k].size(), files[k])
        != bufs[k].size()) {
      std::perror("write stream");
      std::exit(1);
    }
    bufs[k].clear();
    counts[k] = 0;
  };
  std::string line;
  for (uint64_t i = 0; i < opt.events; ++i) {
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

} // namespace

ingest_result run_pipeline(const options& opt, bench::workload& w,
                           std::shared_ptr<storage::rocks_store> store,
                           std::atomic<int64_t>& fake_now, gen_stats& gs,
                           const fs::path& stream_dir) {
  ingest_result res;
  auto schedule = generate_streams(opt, w, stream_dir, gs);
  // The measured phase's own peak, not the prefill's or the generator's.
  reset_peak_rss();
  res.start = measure_memory();
  std::FILE* files[num_kinds];
  for (size_t k = 0; k < num_kinds; ++k) {
    auto path = stream_dir / bench::info(static_cast<kind>(k)).plural;
    files[k] = std::fopen(path.c_str(), "rb");
  }
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
  auto types = all_types();
  caf::anon_send(correlator, types);
  std::atomic<uint64_t> malformed{0};
  std::atomic<int64_t> busy_ns{0};
  std::vector<bench_watcher_actor> watchers;
  for (size_t i = 0; i < num_kinds; ++i) {
    auto sink = static_cast<kind>(i) == kind::event
      ? caf::actor_cast<ingest_sink_actor>(correlator)
      : caf::actor_cast<ingest_sink_actor>(writer);
    watchers.push_back(
      sys.spawn(bench_watcher, types[i], sink, &malformed, &busy_ns));
  }
  caf::scoped_actor self{sys};
  using handle_t = decltype(self->request(
    watchers[0], caf::infinite, std::vector<watch_event>{}, int64_t{0}));
  std::deque<handle_t> pending;
  auto await_one = [&] {
    pending.front().receive([](atom::ok) {},
                            [](caf::error& err) {
                              std::fprintf(stderr, "storage failed: %s\n",
                                           to_string(err).c_str());
                              std::exit(1);
                            });
    pending.pop_front();
  };
  // This thread plays the Kubernetes client's io thread, which in the
  // service serves every reflector: split the stream, scan each line.
  kube::line_splitter splitters[num_kinds];
  clk::duration io{};
  std::string bytes;
  auto cpu_start = process_cpu_s();
  auto t_start = clk::now();
  for (auto& slice : schedule) {
    bytes.resize(slice.bytes);
    if (std::fread(bytes.data(), 1, bytes.size(), files[slice.kind])
        != bytes.size()) {
      std::fprintf(stderr, "short read of a stream file\n");
      std::exit(1);
    }
    auto t0 = clk::now();
    std::vector<watch_event> events;
    events.reserve(opt.watcher_batch);
    std::string_view all{bytes};
    // Fed in 16 KiB pieces, as HTTP chunks arrive.
    for (size_t off = 0; off < all.size(); off += 16384)
      splitters[slice.kind].feed(all.substr(off, 16384),
                                 [&](std::string_view line) {
                                   auto x = kube::scan_watch_line(line);
                                   if (!x || x->is_error) {
                                     ++malformed;
                                     return;
                                   }
                                   events.push_back(std::move(x->event));
                                 });
    io += clk::now() - t0;
    fake_now = slice.now_ns;
    if (pending.size() >= opt.in_flight)
      await_one();
    pending.push_back(self->request(watchers[slice.kind], caf::infinite,
                                    std::move(events), slice.now_ns));
    ++res.batches;
  }
  while (!pending.empty())
    await_one();
  self->request(writer, caf::infinite, atom::flush_v)
    .receive([](uint64_t) {}, [](caf::error&) {});
  res.wall_s = seconds(clk::now() - t_start);
  res.cpu_s = process_cpu_s() - cpu_start;
  res.end = measure_memory();
  for (auto* f : files)
    std::fclose(f);
  fs::remove_all(stream_dir);
  res.gen_s = gs.seconds;
  res.io_s = seconds(io);
  res.producer_s = static_cast<double>(busy_ns.load()) / 1e9;
  res.net_s = res.wall_s;
  res.events = opt.events;
  res.bytes = gs.bytes;
  res.malformed = malformed.load();
  for (auto& w : watchers)
    self->send_exit(w, caf::exit_reason::user_shutdown);
  self->send_exit(correlator, caf::exit_reason::user_shutdown);
  self->send_exit(writer, caf::exit_reason::user_shutdown);
  self->wait_for(writer);
  res.stored = store->next_sequence() - 1; // sequences start at 1
  return res;
}

void settle_compactions(storage::rocks_store& store, json_out& js) {
  // Disk and queries are measured over the store at rest: right after the
  // ingest, the newest day's compactions still compete for both cores and
  // its files are not yet merged.
  auto settle_start = clk::now();
  while (store.compacting()
         && clk::now() - settle_start < std::chrono::hours{1})
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  auto settle_s = seconds(clk::now() - settle_start);
  std::fprintf(stderr, "compactions settled after %.1f s\n", settle_s);
  js.num("compaction_settle_seconds", settle_s);
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
  js.num("ingest_producer_seconds", ing.producer_s);
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
  }
  return ev_s;
}

} // namespace kws::bench
