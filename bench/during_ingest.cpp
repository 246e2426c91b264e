// The query side runs in an actor system of its own, as in the service
// (INDEX on its own thread, the HTTP HANDLER and RELAY on CAF's workers, the
// REST server's io thread); the ingest's actors are run_pipeline's.
#include "bench/during_ingest.hpp"

#include "actors/http_handler.hpp"
#include "actors/http_relay.hpp"
#include "actors/index.hpp"
#include "actors/interfaces.hpp"
#include "actors/register.hpp"
#include "actors/scheduler.hpp"
#include "bench/generated_types.hpp"
#include "bench/percentile.hpp"
#include "bench/pipeline_ingest.hpp"
#include "bench/process_stats.hpp"
#include "bench/query_measures.hpp"
#include "bench/resource_use.hpp"
#include "kube/type_catalog.hpp"
#include "rest/server.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace kws::bench {

namespace {

/// The service's query side over a store, serving HTTP on a free loopback
/// port.
class http_side {
public:
  explicit http_side(std::shared_ptr<storage::rocks_store> store) {
    add_actor_types(cfg_);
    tune_scheduler(cfg_);
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    index_ = sys_->spawn<caf::detached>(kws::index, std::move(store));
    handler_ = sys_->spawn(http_handler, http_handler_config{},
                           std::vector<index_actor>{index_}, discovery_actor{},
                           storage_actor{}, access_actor{});
    // What DISCOVERY would send: the generated types, by their names.
    auto catalog = std::make_shared<kube::type_catalog>();
    for (const auto& type : all_types())
      catalog->retired.emplace(type.group_resource(), type);
    caf::anon_send(handler_, kube::type_catalog_ptr{std::move(catalog)});
    relay_ = sys_->spawn(http_relay, handler_);
    rest::server_options so;
    so.address = "127.0.0.1";
    so.port = 0;
    so.paths = rest::listener_paths::api;
    auto started = rest::server::start(
      so, [relay = relay_](http_request req, responder_ptr rp) {
        caf::anon_send(relay, std::move(req), std::move(rp));
      });
    if (!started) {
      std::fprintf(stderr, "cannot serve HTTP: %s\n",
                   to_string(started.error()).c_str());
      std::exit(1);
    }
    server_ = std::move(*started);
  }

  http_side(const http_side&) = delete;
  http_side& operator=(const http_side&) = delete;

  ~http_side() {
    server_.reset();
    caf::scoped_actor self{*sys_};
    for (const auto& hdl : {caf::actor_cast<caf::actor>(relay_),
                            caf::actor_cast<caf::actor>(handler_),
                            caf::actor_cast<caf::actor>(index_)}) {
      self->send_exit(hdl, caf::exit_reason::user_shutdown);
      self->wait_for(hdl);
    }
  }

  uint16_t port() const { return server_->port(); }

private:
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  index_actor index_;
  http_handler_actor handler_;
  http_relay_actor relay_;
  std::unique_ptr<rest::server> server_;
};

struct wrk_result {
  double req_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  /// Answers other than 2xx and 3xx, and socket errors.
  double failures = 0;
};

/// A wrk latency such as "812.00us", "1.23ms" or "1.02s" in milliseconds.
double wrk_ms(const std::string& text) {
  auto v = std::strtod(text.c_str(), nullptr);
  if (text.ends_with("us"))
    return v / 1e3;
  if (text.ends_with("ms"))
    return v;
  return v * 1e3;
}

/// wrk against `url` for `seconds` with one thread and 8 connections.
wrk_result run_wrk(const std::string& wrk, const std::string& url,
                   unsigned seconds) {
  auto cmd = wrk + " -t1 -c8 -d" + std::to_string(seconds) + "s --latency '"
    + url + "' 2>&1";
  wrk_result r;
  auto* out = ::popen(cmd.c_str(), "r");
  if (out == nullptr) {
    std::perror("wrk");
    std::exit(1);
  }
  char buf[512];
  while (std::fgets(buf, sizeof buf, out) != nullptr) {
    std::string line{buf};
    char word[64] = {};
    double n = 0;
    if (std::sscanf(buf, " Requests/sec: %lf", &n) == 1)
      r.req_per_s = n;
    else if (std::sscanf(buf, " 50%% %63s", word) == 1)
      r.p50_ms = wrk_ms(word);
    else if (std::sscanf(buf, " 99%% %63s", word) == 1)
      r.p99_ms = wrk_ms(word);
    else if (std::sscanf(buf, " Non-2xx or 3xx responses: %lf", &n) == 1)
      r.failures += n;
    else if (line.find("Socket errors") != std::string::npos)
      r.failures += 1;
  }
  if (::pclose(out) != 0 || r.req_per_s <= 0) {
    std::fprintf(stderr, "wrk failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  return r;
}

} // namespace

long measure_during_ingest(const options& opt, workload& w,
                           const std::shared_ptr<storage::rocks_store>& store,
                           std::atomic<int64_t>& fake_now,
                           const std::filesystem::path& stream_dir,
                           json_out& js) {
  pace how{static_cast<uint64_t>(opt.during_rate * opt.during_seconds),
           opt.during_rate};
  if (how.events == 0)
    return 0;
  std::fprintf(stderr, "queries during ingest at %.0f events/s for %u s...\n",
               opt.during_rate, opt.during_seconds);
  // Objects that exist before the phase, so that every history finds one.
  const workload names = w;
  const auto stored_from = start_ns;
  const auto stored_to = w.now_ns();
  std::unique_ptr<http_side> http;
  if (!opt.wrk.empty())
    http = std::make_unique<http_side>(store);
  std::vector<double> hist, page, changes;
  wrk_result wrk;
  uint64_t failures = 0;
  auto ask = [&] {
    std::mt19937_64 rng(opt.seed + 13);
    // The queries leave room for wrk before the replay's end.
    auto for_store
      = std::chrono::seconds{opt.during_seconds > opt.wrk_seconds + 6 && http
                               ? opt.during_seconds - opt.wrk_seconds - 6
                               : std::max(1u, opt.during_seconds - 1)};
    auto until = clk::now() + for_store;
    auto timed = [](std::vector<double>& into, auto&& call) {
      auto t0 = clk::now();
      auto ok = static_cast<bool>(call());
      into.push_back(seconds(clk::now() - t0) * 1e3);
      return ok;
    };
    for (unsigned q = 0; q < opt.queries && clk::now() < until; ++q) {
      auto hq = history_query_for(names, q, rng);
      failures += timed(hist, [&] { return store->history(hq); }) ? 0 : 1;
      auto eq = page_query_for(rng, stored_from, stored_to);
      failures += timed(page, [&] { return store->query(eq); }) ? 0 : 1;
      // "What changed in the last hour", over every namespace.
      changes_query cq;
      cq.window.end_ns = fake_now.load();
      cq.window.start_ns = cq.window.end_ns - int64_t{3600} * 1'000'000'000;
      cq.window.limit = 100;
      failures += timed(changes, [&] { return store->changes(cq); }) ? 0 : 1;
    }
    if (http)
      wrk = run_wrk(opt.wrk,
                    "http://127.0.0.1:" + std::to_string(http->port())
                      + "/api/v1/events?limit=10",
                    opt.wrk_seconds);
  };
  gen_stats gs;
  auto ing = run_pipeline(opt, w, store, fake_now, gs, stream_dir, how, ask);
  http.reset();
  js.num("during_ingest_rate_asked", opt.during_rate);
  js.num("during_ingest_events_per_s",
         static_cast<double>(ing.events) / ing.wall_s);
  js.num("during_ingest_queries", static_cast<double>(hist.size()));
  js.num("during_ingest_query_failures", static_cast<double>(failures));
  js.num("history_p50_ms_during_ingest", percentile(hist, 0.5));
  js.num("history_p99_ms_during_ingest", percentile(hist, 0.99));
  js.num("page_p50_ms_during_ingest", percentile(page, 0.5));
  js.num("page_p99_ms_during_ingest", percentile(page, 0.99));
  js.num("changes_p50_ms_during_ingest", percentile(changes, 0.5));
  js.num("changes_p99_ms_during_ingest", percentile(changes, 0.99));
  if (!opt.wrk.empty()) {
    js.num("http_limit10_req_per_s_during_ingest", wrk.req_per_s);
    js.num("http_limit10_p50_ms_during_ingest", wrk.p50_ms);
    js.num("http_limit10_p99_ms_during_ingest", wrk.p99_ms);
    js.num("http_limit10_failures_during_ingest", wrk.failures);
  }
  auto peak_kib = peak_rss_kib();
  js.num("peak_rss_mb_during_ingest_queries",
         static_cast<double>(peak_kib) / 1024.0);
  report_cpu_by_thread("during_ingest_cpu_us_per_event_", ing, js);
  std::fprintf(stderr,
               "during ingest (%.0f events/s): history p99 %.2f ms, page p99 "
               "%.2f ms, changes p99 %.1f ms, limit=10 %.0f req/s\n",
               static_cast<double>(ing.events) / ing.wall_s,
               percentile(hist, 0.99), percentile(page, 0.99),
               percentile(changes, 0.99), wrk.req_per_s);
  return peak_kib;
}

} // namespace kws::bench
