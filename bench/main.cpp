// kws_bench: measures ingest through the real pipeline next to the raw limit
// of the same machine (RapidJSON parse + RocksDB WriteBatch with the store's
// options), query latencies over the store it built, retention, disk bytes
// per stored event and peak RSS. Writes one JSON object to --out.
//
//   kws_bench --events N --seed S --out FILE.json [--dir DIR] [--days D]
//             [--queries Q] [--templates DIR] [--live-objects N]
//             [--prefill N] [--keep] [--rocksdb-stats FILE] [--queries-only]
//             [--read-threads T]
#include "actors/correlator.hpp"
#include "actors/interfaces.hpp"
#include "actors/register.hpp"
#include "actors/scheduler.hpp"
#include "actors/storage.hpp"
#include "actors/watcher.hpp"
#include "bench/change_queries.hpp"
#include "bench/process_stats.hpp"
#include "bench/workload.hpp"
#include "kube/line_splitter.hpp"
#include "kube/wire.hpp"
#include "messages/process_memory.hpp"
#include "messages/resource_type.hpp"
#include "storage/rocks_options.hpp"
#include "storage/rocks_store.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <malloc.h>
#include <rapidjson/document.h>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace fs = std::filesystem;
using namespace kws;
using bench::kind;
using bench::num_kinds;
using bench::peak_rss_kib;
using bench::reset_peak_rss;
using clk = std::chrono::steady_clock;

namespace {

constexpr int64_t day_ns = int64_t{86'400} * 1'000'000'000;
/// 2026-01-01T00:00:00Z: where generated time starts (a day boundary).
constexpr int64_t start_ns = int64_t{1'767'225'600} * 1'000'000'000;

struct options {
  uint64_t events = 20'000;
  uint64_t seed = 1;
  std::string out;
  std::string dir;
  unsigned days = 4;
  unsigned queries = 300;
  /// Events per watcher batch (one read of a watch stream).
  size_t watcher_batch = 250;
  /// Batches in flight (one per watcher, as with real watchers).
  size_t in_flight = 8;
  size_t storage_batch = 1000;
  bool keep = false;
  /// Captured objects the generator copies (bench/templates/).
  std::string templates = KWS_BENCH_TEMPLATES;
  /// Live objects the workload settles around.
  size_t live_objects = 9000;
  /// Events written straight into the store before the measured ingest, so
  /// that ingest, memory and queries run against a store of
  /// `prefill + events` records.
  uint64_t prefill = 0;
  /// Where RocksDB's statistics go after the measured ingest ("" nowhere).
  std::string rocksdb_stats;
  /// Only measure queries, over the store a run with `--keep` left in
  /// `dir` (same `--events` and `--seed`): to profile queries without
  /// building a large store again.
  bool queries_only = false;
  /// `store_options::read_threads` of the store the queries run on.
  unsigned read_threads = storage::store_options{}.read_threads;
};

double seconds(clk::duration d) {
  return std::chrono::duration<double>(d).count();
}

long current_rss_kib() {
  long pages = 0, rss = 0;
  if (auto* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2)
      rss = 0;
    std::fclose(f);
  }
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/// Where the process's memory is, for attributing a peak: the allocator's
/// heap in use and held free (glibc's mallinfo2), against the RSS.
struct memory_split {
  double rss_mb = 0;
  double heap_used_mb = 0;
  double heap_free_mb = 0;
};

memory_split measure_memory() {
  auto mi = mallinfo2();
  constexpr double mib = 1024.0 * 1024.0;
  return {static_cast<double>(current_rss_kib()) / 1024.0,
          static_cast<double>(mi.uordblks + mi.hblkhd) / mib,
          static_cast<double>(mi.fordblks) / mib};
}

/// CPU seconds (user + system) of all threads of the process so far.
double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/// CPU seconds of the calling thread so far.
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct dir_size {
  uint64_t total = 0;
  uint64_t sst = 0;
};

dir_size measure(const fs::path& dir) {
  dir_size r;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec))
      continue;
    auto n = e.file_size(ec);
    if (ec)
      continue;
    r.total += n;
    if (e.path().extension() == ".sst")
      r.sst += n;
  }
  return r;
}

resource_type type_of(kind k) {
  auto& i = bench::info(k);
  return resource_type{i.group, i.version, i.kind, i.plural, true};
}

/// Every generated type, indexed by `kind`.
std::vector<resource_type> all_types() {
  std::vector<resource_type> types;
  for (size_t i = 0; i < num_kinds; ++i)
    types.push_back(type_of(static_cast<kind>(i)));
  return types;
}

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

/// What generating the workload costs on the producing thread; subtracted
/// from wall time so both ingest figures measure only the system under test.
struct gen_stats {
  uint64_t bytes = 0;
  double seconds = 0;
  uint64_t count[num_kinds] = {};
  uint64_t kind_bytes[num_kinds] = {};
};

// -- pipeline
// ------------------------------------------------------------------

struct ingest_result {
  double wall_s = 0;
  double gen_s = 0;
  double net_s = 0;
  /// Split + scan on the io thread.
  double io_s = 0;
  /// Parse + build, summed over the watcher actors.
  double producer_s = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;
  uint64_t stored = 0;
  uint64_t malformed = 0;
  uint64_t batches = 0;
  /// CPU seconds of all threads during the measured ingest.
  double cpu_s = 0;
  /// Memory when the measured ingest starts (what the peak starts from) and
  /// when it ends, before the actors are gone.
  memory_split start;
  memory_split end;
};

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

// -- prefill ---------------------------------------------------------------

/// Writes `opt.prefill` events of `w` straight into the store with the
/// service's own pure steps (scan, build, link Events, write) on this thread
/// and no actors: a store of millions of records in minutes. Returns the
/// records stored.
uint64_t prefill(const options& opt, bench::workload& w,
                 storage::rocks_store& store, std::atomic<int64_t>& fake_now) {
  auto types = all_types();
  kind_index kinds;
  kinds.reset(types);
  std::vector<watch_event> pending[num_kinds];
  uint64_t stored = 0;
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
    stored += written->written;
  };
  std::string line;
  for (uint64_t i = 0; i < opt.prefill; ++i) {
    line.clear();
    auto k = static_cast<size_t>(w.next(line).k);
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
      std::fprintf(stderr, "prefill: %" PRIu64 " events\n", i + 1);
  }
  for (size_t k = 0; k < num_kinds; ++k)
    if (!pending[k].empty())
      write(k);
  return stored;
}

// -- raw limit -------------------------------------------------------------

struct raw_result {
  /// CPU seconds of all threads, generation excluded.
  double cpu_s = 0;
  double wall_s = 0;
  double gen_s = 0;
  double net_s = 0;
  uint64_t bytes = 0;
  dir_size disk;
};

/// RapidJSON DOM parse of every line plus one synced RocksDB WriteBatch per
/// storage batch, with the options rocks_store uses: the most a single
/// writer on this machine can do with the same bytes.
raw_result run_raw(const options& opt, const fs::path& dir) {
  raw_result res;
  // One default column family with the options of the store's records.
  auto rocks = storage::make_rocks_options(storage::store_options{});
  rocksdb::Options o{rocks.db, rocks.record_cf};
  rocksdb::DB* raw = nullptr;
  if (auto st = rocksdb::DB::Open(o, dir.string(), &raw); !st.ok()) {
    std::fprintf(stderr, "raw open failed: %s\n", st.ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<rocksdb::DB> db{raw};
  rocksdb::WriteOptions wo;
  wo.sync = true;
  bench::workload w(opt.seed, start_ns,
                    static_cast<int64_t>(opt.days) * day_ns
                      / static_cast<int64_t>(opt.events),
                    opt.templates, opt.live_objects);
  std::string buf;
  clk::duration gen{};
  uint64_t seq = 0;
  auto cpu_start = process_cpu_s();
  double gen_cpu = 0;
  auto t_start = clk::now();
  auto write_batch = [&] {
    rocksdb::WriteBatch wb;
    std::string_view all{buf};
    size_t pos = 0;
    rapidjson::Document doc;
    while (pos < all.size()) {
      auto nl = all.find('\n', pos);
      auto line = all.substr(pos, nl - pos);
      pos = nl + 1;
      doc.Parse(line.data(), line.size());
      if (doc.HasParseError() || !doc.IsObject()) {
        std::fprintf(stderr, "raw: parse error\n");
        std::exit(1);
      }
      char key[8];
      auto s = ++seq;
      for (int i = 7; i >= 0; --i, s >>= 8)
        key[i] = static_cast<char>(s & 0xff);
      wb.Put(rocksdb::Slice{key, 8}, rocksdb::Slice{line.data(), line.size()});
    }
    if (auto st = db->Write(wo, &wb); !st.ok()) {
      std::fprintf(stderr, "raw write failed: %s\n", st.ToString().c_str());
      std::exit(1);
    }
    buf.clear();
  };
  size_t in_batch = 0;
  for (uint64_t i = 0; i < opt.events; ++i) {
    auto t0 = clk::now();
    auto c0 = thread_cpu_s();
    auto before = buf.size();
    w.next(buf);
    res.bytes += buf.size() - before;
    gen_cpu += thread_cpu_s() - c0;
    gen += clk::now() - t0;
    if (++in_batch == opt.storage_batch) {
      write_batch();
      in_batch = 0;
    }
  }
  if (in_batch > 0)
    write_batch();
  res.wall_s = seconds(clk::now() - t_start);
  res.cpu_s = process_cpu_s() - cpu_start - gen_cpu;
  res.gen_s = seconds(gen);
  res.net_s = res.wall_s - res.gen_s;
  db->Flush(rocksdb::FlushOptions{});
  db.reset();
  res.disk = measure(dir);
  return res;
}

// -- output ------------------------------------------------------------------

struct json_out {
  std::string s = "{";
  bool first = true;
  void key(const char* k) {
    if (!first)
      s += ",";
    first = false;
    s += "\n  \"";
    s += k;
    s += "\": ";
  }
  void num(const char* k, double v) {
    key(k);
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v);
    s += b;
  }
  void str(const char* k, const std::string& v) {
    key(k);
    s += '"' + v + '"';
  }
};

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
  const kind hist_kinds[] = {kind::pod, kind::pod, kind::deployment,
                             kind::replicaset, kind::configmap};
  for (unsigned q = 0; q < opt.queries; ++q) {
    auto k = hist_kinds[q % 5];
    auto [ns, name] = names.pick_object(k, qrng);
    history_query hq;
    hq.ns = ns;
    hq.resource = bench::info(k).plural;
    hq.name = name;
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
    event_query eq;
    eq.ns = bench::workload::namespace_name(
      static_cast<unsigned>(qrng() % bench::workload::num_namespaces));
    eq.resource = "pods";
    eq.verb = "update";
    eq.limit = 1000;
    // A time window starting at a random point of the stored range.
    eq.start_ns = start_ns
      + static_cast<int64_t>(qrng()
                             % static_cast<uint64_t>(
                               static_cast<int64_t>(opt.days - 1) * day_ns));
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
  // "What changed on the first day".
  auto changes = bench::measure_changes(store, opt.seed, start_ns,
                                        start_ns + day_ns, opt.queries / 4);
  js.num("changes_namespace_p50_ms", changes.namespace_p50_ms);
  js.num("changes_namespace_p99_ms", changes.namespace_p99_ms);
  js.num("changes_all_p50_ms", changes.all_p50_ms);
  js.num("changes_all_p99_ms", changes.all_p99_ms);
  js.num("changes_all_entries", changes.all_entries);
  js.num("changes_failures", static_cast<double>(changes.failures));
  std::fprintf(stderr,
               "changes: one namespace p50 %.1f p99 %.1f ms; all p50 %.1f "
               "p99 %.1f ms\n",
               changes.namespace_p50_ms, changes.namespace_p99_ms,
               changes.all_p50_ms, changes.all_p99_ms);
  std::fprintf(stderr,
               "history p50 %.3f p99 %.3f ms; page p50 %.3f p99 %.3f ms\n",
               hist.pct(0.5), hist.pct(0.99), page.pct(0.5), page.pct(0.99));
}

/// Writes `js` to `opt.out`, or to stdout without one.
int write_json(const options& opt, json_out& js) {
  js.s += "\n}\n";
  if (opt.out.empty()) {
    std::fputs(js.s.c_str(), stdout);
    return 0;
  }
  auto* f = std::fopen(opt.out.c_str(), "w");
  if (f == nullptr) {
    std::perror(opt.out.c_str());
    return 1;
  }
  std::fputs(js.s.c_str(), f);
  std::fclose(f);
  return 0;
}

/// `--queries-only`: the query measures over a kept store.
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

[[noreturn]] void usage() {
  std::fprintf(
    stderr,
    "usage: kws_bench --events N --seed S --out FILE.json [--dir DIR]"
    " [--days D] [--queries Q] [--templates DIR] [--live-objects N] "
    "[--prefill N] [--keep] [--rocksdb-stats FILE] [--queries-only] "
    "[--read-threads T]\n");
  std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
  // The service's allocator settings (app/main.cpp).
  kws::process_memory::limit_arenas(kws::process_memory::service_arenas);
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc)
        usage();
      return argv[++i];
    };
    if (a == "--events")
      opt.events = std::stoull(val());
    else if (a == "--seed")
      opt.seed = std::stoull(val());
    else if (a == "--out")
      opt.out = val();
    else if (a == "--dir")
      opt.dir = val();
    else if (a == "--days")
      opt.days = static_cast<unsigned>(std::stoul(val()));
    else if (a == "--queries")
      opt.queries = static_cast<unsigned>(std::stoul(val()));
    else if (a == "--live-objects")
      opt.live_objects = std::stoull(val());
    else if (a == "--templates")
      opt.templates = val();
    else if (a == "--keep")
      opt.keep = true;
    else if (a == "--rocksdb-stats")
      opt.rocksdb_stats = val();
    else if (a == "--prefill")
      opt.prefill = std::stoull(val());
    else if (a == "--queries-only")
      opt.queries_only = true;
    else if (a == "--read-threads")
      opt.read_threads = static_cast<unsigned>(std::stoul(val()));
    else
      usage();
  }
  if (opt.events == 0 || opt.days < 2 || opt.read_threads == 0
      || (opt.queries_only && opt.dir.empty()))
    usage();
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
  js.num("prefill_events", static_cast<double>(opt.prefill));
  if (opt.prefill > 0) {
    std::fprintf(stderr, "prefill of %" PRIu64 " events...\n", opt.prefill);
    auto t0 = clk::now();
    auto stored = prefill(opt, w, *store, fake_now);
    js.num("prefill_records", static_cast<double>(stored));
    js.num("prefill_seconds", seconds(clk::now() - t0));
    // The service, which wrote those records over days, returned the
    // memory its writes freed as it went (actors/storage.cpp).
    kws::process_memory::release_free();
  }
  std::fprintf(stderr, "pipeline ingest of %" PRIu64 " events...\n",
               opt.events);
  gen_stats gs;
  auto ing = run_pipeline(opt, w, store, fake_now, gs, root / "streams");
  auto rss_ingest = peak_rss_kib();
  if (!opt.rocksdb_stats.empty()) {
    // Since the store opened: the prefill's compactions count too.
    std::ofstream out{opt.rocksdb_stats};
    out << store->statistics();
  }
  if (auto err = store->flush()) {
    std::fprintf(stderr, "flush failed: %s\n", to_string(err).c_str());
    return 1;
  }
  // Disk and queries are measured over the store at rest: right after the
  // ingest, the newest day's compactions still compete for both cores and
  // its files are not yet merged.
  auto settle_start = clk::now();
  while (store->compacting()
         && clk::now() - settle_start < std::chrono::hours{1})
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  auto settle_s = seconds(clk::now() - settle_start);
  std::fprintf(stderr, "compactions settled after %.1f s\n", settle_s);
  js.num("compaction_settle_seconds", settle_s);
  auto disk = measure(store_dir);
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

  // 2. Queries over the store just built.
  measure_queries(opt, *store, js);
  js.num("peak_rss_mb", static_cast<double>(peak_rss_kib()) / 1024.0);
  js.num("rss_mb_after_queries",
         static_cast<double>(current_rss_kib()) / 1024.0);

  // 3. Retention: drop the first day.
  {
    auto parts_before = store->partitions().size();
    auto before = measure(store_dir);
    auto seq_before = store->next_sequence();
    auto t0 = clk::now();
    auto dropped
      = store->drop_expired(start_ns + 2 * day_ns + 1'000'000'000, 1);
    auto dt = seconds(clk::now() - t0);
    // The dropped files are deleted when RocksDB purges obsolete files,
    // which may lag the drop and go file by file: wait (bounded) until the
    // directory has shrunk and then stayed the same for 100 ms.
    auto after = measure(store_dir);
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
      auto now = measure(store_dir);
      if (now.total == after.total && now.total < before.total)
        break;
      after = now;
    }
    js.num("partitions", static_cast<double>(parts_before));
    js.num("retention_partitions_dropped",
           dropped ? static_cast<double>(*dropped) : -1);
    js.num("retention_drop_ms", dt * 1e3);
    js.num("retention_bytes_freed",
           static_cast<double>(before.total)
             - static_cast<double>(after.total));
    js.num("retention_events_per_day",
           static_cast<double>(seq_before) / opt.days);
    std::fprintf(stderr,
                 "retention: dropped %zu of %zu partitions in %.1f ms\n",
                 dropped ? *dropped : 0, parts_before, dt * 1e3);
  }
  store.reset();

  // 4. The raw limit, same run, same bytes.
  std::fprintf(stderr, "raw limit...\n");
  auto raw = run_raw(opt, raw_dir);
  double raw_ev_s = static_cast<double>(opt.events) / raw.net_s;
  js.num("raw_seconds", raw.net_s);
  js.num("raw_cpu_us_per_event",
         raw.cpu_s * 1e6 / static_cast<double>(opt.events));
  js.num("raw_events_per_s", raw_ev_s);
  js.num("raw_mb_per_s", static_cast<double>(raw.bytes) / 1e6 / raw.net_s);
  js.num("raw_disk_bytes_per_event",
         static_cast<double>(raw.disk.total) / static_cast<double>(opt.events));
  js.num("ingest_fraction_of_raw", ev_s / raw_ev_s);
  js.num("peak_rss_mb_with_raw", static_cast<double>(peak_rss_kib()) / 1024.0);
  std::fprintf(stderr, "raw: %.0f events/s (pipeline is %.0f%%)\n", raw_ev_s,
               100.0 * ev_s / raw_ev_s);
  auto rc = write_json(opt, js);
  if (!opt.keep)
    fs::remove_all(root);
  return rc;
}
