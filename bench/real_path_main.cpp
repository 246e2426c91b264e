// kws_real_path_bench: the service's real watch path, measured end to end.
// A local HTTPS apiserver (bench/fake_apiserver.hpp, its own process) serves
// a list and a watch of generated Pods; the service's Kubernetes client,
// reflector, WATCHER and STORAGE (bench/real_path_service.hpp) ingest them
// into a fresh RocksDB store. Per event it measures the time from the
// apiserver writing it to its record being durable, the events durable per
// second, and counts what the store holds. One phase per rate; one JSON
// object to --out.
//
//   kws_real_path_bench --out FILE.json [--events N] [--rates 0,20,1000]
//                       [--rate R] [--phase-seconds S] [--list-pods N]
//                       [--max-seconds S] [--drain-seconds S] [--seed S]
//                       [--templates DIR] [--dir DIR] [--keep]
//                       [--kafka HOST:PORT] [--kafka-topic T]
//
// --rate 0 writes as fast as the client reads (--events events); a rate R > 0
// writes R events/s for --phase-seconds (at most --events). Each phase stops
// after --max-seconds and then waits up to --drain-seconds for what was
// written to become durable. Traffic stays on 127.0.0.1. With --kafka the
// EXPORTER also sends every record to that broker (tests/kafka/up), and each
// phase reports how far export fell behind and when it caught up.
#include "bench/fake_apiserver.hpp"
#include "bench/percentile.hpp"
#include "bench/pod_stream.hpp"
#include "bench/real_path_service.hpp"
#include "bench/stamps.hpp"

#include <fcntl.h>
#include <poll.h>
#include <rapidjson/ostreamwrapper.h>
#include <rapidjson/prettywriter.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;
using namespace kws::bench;

namespace {

struct options {
  std::string out;
  uint64_t events = 20'000;
  std::vector<double> rates{0, 20, 1000};
  double phase_seconds = 10;
  uint64_t list_pods = 100;
  double max_seconds = 60;
  double drain_seconds = 10;
  std::string kafka;
  std::string kafka_topic = "kws-bench";
  uint64_t seed = 1;
  std::string templates = KWS_BENCH_TEMPLATES;
  std::string dir;
  bool keep = false;
  // The apiserver process (--serve).
  bool serve = false;
  double rate = 0;
  std::string stamps;
  std::string cert;
  std::string key;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "kws_real_path_bench: %s\nusage: kws_real_path_bench --out "
               "FILE [--events N] [--rates R,R,..|--rate R] [--phase-seconds "
               "S] [--list-pods N] [--max-seconds S] [--drain-seconds S] "
               "[--seed S] [--templates DIR] [--dir DIR] [--keep] [--kafka "
               "HOST:PORT] [--kafka-topic T]\n",
               why);
  std::exit(2);
}

std::vector<double> parse_rates(const std::string& x) {
  std::vector<double> result;
  size_t pos = 0;
  while (pos <= x.size()) {
    auto comma = x.find(',', pos);
    auto item = x.substr(pos, comma == std::string::npos ? comma : comma - pos);
    if (!item.empty())
      result.push_back(std::stod(item));
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return result;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(("missing value of " + a).c_str());
      return argv[++i];
    };
    try {
      if (a == "--out")
        o.out = value();
      else if (a == "--events")
        o.events = std::stoull(value());
      else if (a == "--rates")
        o.rates = parse_rates(value());
      else if (a == "--rate") {
        o.rate = std::stod(value());
        o.rates = {o.rate};
      } else if (a == "--phase-seconds")
        o.phase_seconds = std::stod(value());
      else if (a == "--list-pods")
        o.list_pods = std::stoull(value());
      else if (a == "--max-seconds")
        o.max_seconds = std::stod(value());
      else if (a == "--drain-seconds")
        o.drain_seconds = std::stod(value());
      else if (a == "--seed")
        o.seed = std::stoull(value());
      else if (a == "--templates")
        o.templates = value();
      else if (a == "--dir")
        o.dir = value();
      else if (a == "--keep")
        o.keep = true;
      else if (a == "--kafka")
        o.kafka = value();
      else if (a == "--kafka-topic")
        o.kafka_topic = value();
      else if (a == "--serve")
        o.serve = true;
      else if (a == "--stamps")
        o.stamps = value();
      else if (a == "--cert")
        o.cert = value();
      else if (a == "--key")
        o.key = value();
      else
        usage(("unknown option " + a).c_str());
    } catch (const std::logic_error&) {
      usage(("bad value of " + a).c_str());
    }
  }
  if (!o.serve && o.out.empty())
    usage("--out is required");
  if (o.rates.empty() || o.events == 0)
    usage("nothing to measure");
  return o;
}

std::string read_text(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

void write_private(const fs::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0
      || ::write(fd, text.data(), text.size())
        != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("cannot write " + path.string());
  ::close(fd);
}

/// The apiserver's process: generate the stream, then serve it.
int serve(const options& o) {
  auto pods = make_pod_stream(o.templates, o.seed, o.list_pods, o.events);
  apiserver_options ao;
  ao.identity = {read_text(o.cert), read_text(o.key)};
  ao.rate = o.rate;
  ao.stamps_path = o.stamps;
  return serve_apiserver(pods, ao);
}

/// A running apiserver process.
struct apiserver_process {
  pid_t pid = -1;
  unsigned port = 0;

  void signal(int sig) const {
    if (pid > 0)
      ::kill(pid, sig);
  }

  void stop() {
    if (pid <= 0)
      return;
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
  }
};

/// Starts this executable with --serve and waits for its port (generating
/// the stream comes first, so this waits for that too).
apiserver_process start_apiserver(const options& o, double rate,
                                  uint64_t events, const fs::path& dir) {
  std::vector<std::string> args{
    "/proc/self/exe", "--serve",
    "--rate",         std::to_string(rate),
    "--events",       std::to_string(events),
    "--list-pods",    std::to_string(o.list_pods),
    "--seed",         std::to_string(o.seed),
    "--templates",    o.templates,
    "--stamps",       (dir / "stamps").string(),
    "--cert",         (dir.parent_path() / "cert.pem").string(),
    "--key",          (dir.parent_path() / "key.pem").string()};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe(out) != 0)
    throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  apiserver_process p;
  auto rc = posix_spawn(&p.pid, "/proc/self/exe", &actions, nullptr,
                        argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    throw std::runtime_error("cannot start the apiserver process");
  }
  std::string line;
  pollfd pfd{out[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos) {
    char buf[64];
    if (::poll(&pfd, 1, 300'000) <= 0)
      break;
    auto n = ::read(out[0], buf, sizeof buf);
    if (n <= 0)
      break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  if (std::sscanf(line.c_str(), "port %u", &p.port) != 1) {
    p.stop();
    throw std::runtime_error("the apiserver process did not start");
  }
  return p;
}

/// The upper bound of the bucket holding quantile `p`.
double bucket_quantile(const histogram_counts& h, double p) {
  auto rank = static_cast<double>(h.count) * p;
  for (auto& [bound, n] : h.buckets)
    if (static_cast<double>(n) >= rank)
      return bound;
  return 0;
}

using writer_t = rapidjson::PrettyWriter<rapidjson::OStreamWrapper>;

void put(writer_t& w, const char* key, uint64_t x) {
  w.Key(key);
  w.Uint64(x);
}

void put(writer_t& w, const char* key, double x) {
  w.Key(key);
  if (std::isfinite(x))
    w.Double(std::round(x * 1e6) / 1e6);
  else
    w.Null();
}

/// A phase's figures, for the summary and the JSON.
struct phase_figures {
  double rate = 0;
  uint64_t planned = 0;
  uint64_t sent = 0;
  uint64_t durable_in_time = 0;
  uint64_t stored = 0;
  uint64_t missing = 0;
  uint64_t duplicated = 0;
  uint64_t unexpected = 0;
  uint64_t list_items_stored = 0;
  /// Events written but not stored while a later one was: a lost event,
  /// whether or not the time limit was reached.
  uint64_t gaps = 0;
  double seconds = 0;
  double events_per_s = 0;
  double lag_p50_s = 0, lag_p99_s = 0, lag_max_s = 0;
  double fresh_p50_ms = 0, fresh_p99_ms = 0;
  /// Events still not durable at the end count with the time they had
  /// waited: their percentiles are then lower bounds.
  uint64_t censored = 0;
  double list_seconds = -1;
  double peak_rss_mb = 0;
  double cpu_us_per_event = 0;
  bool timed_out = false;
  /// With export: seconds from the last event durable to the last record
  /// acknowledged by Kafka (-1: not within the drain; below -1: no export).
  double export_catch_up_s = -2;
  service_result svc;
};

phase_figures figures(double rate, uint64_t planned, stamp_file& stamps,
                      service_result svc, bool exporting) {
  phase_figures f;
  f.rate = rate;
  f.planned = planned;
  std::vector<double> lag, fresh;
  int64_t first_due = 0, last_durable = 0;
  uint64_t last_stored = 0;
  for (uint64_t i = 0; i < planned; ++i)
    if (svc.stored[i] > 0)
      last_stored = i + 1;
  for (uint64_t i = 0; i < planned; ++i) {
    auto sent = stamps.at(i).sent_ns.load();
    auto due = stamps.at(i).due_ns.load();
    auto durable = svc.durable_ns[i];
    auto stored = svc.stored[i];
    if (sent == 0) {
      if (stored > 0) // stored but never written: cannot be
        f.unexpected += stored;
      continue;
    }
    ++f.sent;
    if (first_due == 0 || due < first_due)
      first_due = due;
    f.stored += stored > 0 ? 1 : 0;
    f.missing += stored == 0 ? 1 : 0;
    f.gaps += stored == 0 && i < last_stored ? 1 : 0;
    f.duplicated += stored > 1 ? 1 : 0;
    auto until = durable != 0 ? durable : svc.end_ns;
    if (durable != 0) {
      ++f.durable_in_time;
      last_durable = std::max(last_durable, durable);
    } else {
      ++f.censored;
    }
    lag.push_back(static_cast<double>(std::max<int64_t>(until - sent, 0))
                  / 1e9);
    fresh.push_back(static_cast<double>(std::max<int64_t>(until - due, 0))
                    / 1e6);
  }
  f.unexpected += svc.unexpected;
  f.list_items_stored = svc.list_items_stored;
  if (last_durable > first_due)
    f.events_per_s = static_cast<double>(f.durable_in_time)
      / (static_cast<double>(last_durable - first_due) / 1e9);
  f.seconds = static_cast<double>(svc.end_ns - svc.start_ns) / 1e9;
  f.lag_p50_s = percentile(lag, 0.5);
  f.lag_p99_s = percentile(lag, 0.99);
  f.lag_max_s = percentile(lag, 1.0);
  f.fresh_p50_ms = percentile(fresh, 0.5);
  f.fresh_p99_ms = percentile(fresh, 0.99);
  if (svc.list_durable_ns != 0)
    f.list_seconds
      = static_cast<double>(svc.list_durable_ns - svc.start_ns) / 1e9;
  f.peak_rss_mb = static_cast<double>(svc.peak_rss_kib) / 1024.0;
  if (f.durable_in_time > 0)
    f.cpu_us_per_event
      = svc.cpu_s * 1e6 / static_cast<double>(f.durable_in_time);
  f.timed_out = svc.timed_out;
  if (exporting)
    f.export_catch_up_s = svc.export_done_ns == 0
      ? -1
      : static_cast<double>(
          std::max<int64_t>(svc.export_done_ns - last_durable, 0))
        / 1e9;
  f.svc = std::move(svc);
  return f;
}

void write_phase(writer_t& w, const phase_figures& f) {
  w.StartObject();
  put(w, "rate", f.rate);
  put(w, "events_planned", f.planned);
  put(w, "events_sent", f.sent);
  put(w, "events_durable_in_time", f.durable_in_time);
  put(w, "events_stored", f.stored);
  put(w, "events_missing", f.missing);
  put(w, "events_duplicated", f.duplicated);
  put(w, "events_unexpected", f.unexpected);
  put(w, "list_items_stored", f.list_items_stored);
  put(w, "events_gaps", f.gaps);
  put(w, "timed_out", uint64_t{f.timed_out ? 1u : 0u});
  put(w, "seconds", f.seconds);
  put(w, "list_durable_seconds", f.list_seconds);
  put(w, "events_per_s", f.events_per_s);
  put(w, "lag_p50_s", f.lag_p50_s);
  put(w, "lag_p99_s", f.lag_p99_s);
  put(w, "lag_max_s", f.lag_max_s);
  put(w, "freshness_p50_ms", f.fresh_p50_ms);
  put(w, "freshness_p99_ms", f.fresh_p99_ms);
  put(w, "events_not_durable_at_end", f.censored);
  put(w, "peak_rss_mb", f.peak_rss_mb);
  put(w, "cpu_us_per_event", f.cpu_us_per_event);
  put(w, "storage_records", f.svc.storage_records);
  put(w, "storage_batches", f.svc.storage_batches);
  put(w, "watch_restarts", f.svc.watch_restarts);
  if (f.svc.delivery.found && f.svc.delivery.count > 0) {
    // The service's own account (receipt from the stream -> durable), as
    // bucket upper bounds.
    put(w, "service_delivery_count", f.svc.delivery.count);
    put(w, "service_delivery_p50_s", bucket_quantile(f.svc.delivery, 0.5));
    put(w, "service_delivery_p99_s", bucket_quantile(f.svc.delivery, 0.99));
  }
  if (f.export_catch_up_s >= -1) {
    put(w, "export_records", f.svc.exported);
    put(w, "export_lag_max_records", f.svc.export_lag_max);
    put(w, "export_catch_up_s", f.export_catch_up_s);
    put(w, "export_failures", f.svc.export_failures);
  }
  w.Key("last_error");
  w.String(f.svc.last_error.c_str());
  w.EndObject();
}

void write_result(const options& o, const std::vector<phase_figures>& phases,
                  double seconds) {
  std::ofstream out{o.out};
  rapidjson::OStreamWrapper os{out};
  writer_t w{os};
  w.StartObject();
  const phase_figures* fastest = nullptr;
  const phase_figures* low = nullptr;
  const phase_figures* high = nullptr;
  double peak = 0;
  uint64_t sent = 0, stored = 0, missing = 0, dup = 0, unexpected = 0,
           list_stored = 0, gaps = 0, timed_out = 0;
  for (auto& f : phases) {
    if (f.rate == 0 && fastest == nullptr)
      fastest = &f;
    if (f.rate > 0 && (low == nullptr || f.rate < low->rate))
      low = &f;
    if (f.rate > 0 && (high == nullptr || f.rate > high->rate))
      high = &f;
    peak = std::max(peak, f.peak_rss_mb);
    sent += f.sent;
    stored += f.stored;
    missing += f.missing;
    dup += f.duplicated;
    unexpected += f.unexpected;
    list_stored += f.list_items_stored;
    gaps += f.gaps;
    timed_out += f.timed_out ? 1 : 0;
  }
  if (fastest != nullptr) {
    put(w, "real_path_events_per_s", fastest->events_per_s);
    put(w, "watch_lag_p50_s", fastest->lag_p50_s);
    put(w, "watch_lag_p99_s", fastest->lag_p99_s);
  }
  if (low != nullptr) {
    put(w, "freshness_p50_ms", low->fresh_p50_ms);
    put(w, "freshness_p50_rate", low->rate);
  }
  if (high != nullptr) {
    put(w, "freshness_p99_ms", high->fresh_p99_ms);
    put(w, "freshness_p99_rate", high->rate);
  }
  put(w, "peak_rss_mb", peak);
  put(w, "events", sent);
  put(w, "events_stored", stored);
  put(w, "events_missing", missing);
  put(w, "events_duplicated", dup);
  put(w, "events_unexpected", unexpected);
  put(w, "events_gaps", gaps);
  put(w, "timed_out_phases", timed_out);
  put(w, "list_items", o.list_pods * phases.size());
  put(w, "list_items_stored", list_stored);
  put(w, "seconds", seconds);
  put(w, "max_seconds", o.max_seconds);
  put(w, "seed", o.seed);
  w.Key("phases");
  w.StartArray();
  for (auto& f : phases)
    write_phase(w, f);
  w.EndArray();
  w.EndObject();
  out << "\n";
}

int measure(const options& o) {
  auto started = monotonic_ns();
  fs::path dir = o.dir.empty() ? fs::temp_directory_path()
      / ("kws-real-path-" + std::to_string(::getpid()))
                               : fs::path{o.dir};
  fs::create_directories(dir);
  // One identity per run; the client trusts exactly this certificate.
  auto identity = make_self_signed();
  write_private(dir / "cert.pem", identity.cert_pem);
  write_private(dir / "key.pem", identity.key_pem);
  std::vector<phase_figures> phases;
  for (size_t i = 0; i < o.rates.size(); ++i) {
    auto rate = o.rates[i];
    uint64_t events = rate > 0
      ? std::min<uint64_t>(
        o.events, static_cast<uint64_t>(std::ceil(rate * o.phase_seconds)))
      : o.events;
    events = std::max<uint64_t>(events, 1);
    auto phase_dir = dir / ("phase-" + std::to_string(i));
    fs::remove_all(phase_dir);
    fs::create_directories(phase_dir);
    auto stamps = stamp_file::create((phase_dir / "stamps").string(), events);
    auto server = start_apiserver(o, rate, events, phase_dir);
    service_phase sp;
    sp.server = "https://127.0.0.1:" + std::to_string(server.port);
    sp.ca_pem = identity.cert_pem;
    sp.store_dir = (phase_dir / "store").string();
    sp.list_pods = o.list_pods;
    sp.events = events;
    sp.max_time
      = std::chrono::milliseconds{static_cast<int64_t>(o.max_seconds * 1000)};
    sp.drain_time
      = std::chrono::milliseconds{static_cast<int64_t>(o.drain_seconds * 1000)};
    sp.stamps = &stamps;
    sp.stop_sending = [&server] { server.signal(SIGUSR1); };
    sp.kafka = o.kafka;
    sp.kafka_topic = o.kafka_topic;
    service_result svc;
    try {
      svc = run_service(sp);
    } catch (...) {
      server.stop();
      throw;
    }
    server.stop();
    auto f = figures(rate, events, stamps, std::move(svc), !o.kafka.empty());
    std::fprintf(stderr,
                 "rate %g: %llu of %llu events sent, %llu stored, %llu "
                 "durable in time; %.0f events/s; lag p50 %.3f s p99 %.3f s; "
                 "freshness p50 %.1f ms p99 %.1f ms%s\n",
                 rate, static_cast<unsigned long long>(f.sent),
                 static_cast<unsigned long long>(events),
                 static_cast<unsigned long long>(f.stored),
                 static_cast<unsigned long long>(f.durable_in_time),
                 f.events_per_s, f.lag_p50_s, f.lag_p99_s, f.fresh_p50_ms,
                 f.fresh_p99_ms, f.timed_out ? " (time limit reached)" : "");
    phases.push_back(std::move(f));
    if (!o.keep)
      fs::remove_all(phase_dir);
  }
  if (!o.keep)
    fs::remove_all(dir);
  write_result(o, phases, static_cast<double>(monotonic_ns() - started) / 1e9);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  try {
    return o.serve ? serve(o) : measure(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kws_real_path_bench: %s\n", e.what());
    return 1;
  }
}
