// k8s-watch-server under the churn of a busy cluster, on a control plane of
// its own: audit level RequestResponse (every write carries the object it
// left) and no leader election (a loaded machine would otherwise lose the
// controllers' leases and with them the cluster). The churn generator writes
// for a minute, the server is killed (-9) halfway and restarted, and then its
// whole record of the churn's namespaces is compared with the audit log:
// every version recorded exactly once, except inside the coverage gaps the
// service reports after a 410 Gone. The watch lag is printed, never asserted:
// timing goals do not belong in a test that also runs under AddressSanitizer.
#include "tests/support/audit_oracle.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/service_queries.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

namespace kws::test {
namespace {

using namespace std::chrono_literals;

constexpr auto patience = 60s;

/// The churn: up to `churn_rate` operations per second over
/// `churn_namespaces` namespaces for `churn_seconds`. Every operation sets off
/// controller, scheduler and kubelet writes: 220 to 250 audited writes a
/// second in the churn's namespaces on the 2-core machine (the test prints
/// it). No namespace is deleted (the oracle cannot explain the pod updates
/// of a namespace's deletecollection), and Jobs go 5 s after they finish
/// rather than a minute, so the cluster is quiet soon after the churn ends.
constexpr int churn_rate = 40;
constexpr int churn_namespaces = 8;
constexpr int churn_seconds = 60;

/// Audited writes per second in scope, averaged over the churn, below which
/// the run does not count as busy. Not the 150 the load is meant to exceed:
/// the generator issues one request at a time, so its rate follows the
/// apiserver's latency, which a loaded CI machine or a sanitized server
/// taking its share of the 2 cores raises. 100 leaves room for that and is
/// still far beyond the 5 changes a second per type the service used to
/// keep up with.
constexpr double busy_floor = 100;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

double seconds(int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

bool file_has(const std::filesystem::path& path, const std::string& text) {
  std::ifstream in{path};
  std::string line;
  while (std::getline(in, line))
    if (line.find(text) != std::string::npos)
      return true;
  return false;
}

/// The nearest-rank `q` quantile of `xs` (not empty).
double quantile(std::vector<double> xs, double q) {
  std::sort(xs.begin(), xs.end());
  auto rank
    = static_cast<size_t>(std::ceil(q * static_cast<double>(xs.size())));
  return xs[std::clamp<size_t>(rank, 1, xs.size()) - 1];
}

std::string fixed(double x, int digits = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

/// A cumulative latency histogram: bucket upper bound -> count at or below.
struct histogram_counts {
  std::map<double, double> buckets;
  double sum = 0;
  double count = 0;

  void add(const histogram_counts& other) {
    for (auto& [le, n] : other.buckets)
      buckets[le] += n;
    sum += other.sum;
    count += other.count;
  }

  /// The smallest bucket bound with at least a fraction `q` of the count.
  double bound_of(double q) const {
    for (auto& [le, n] : buckets)
      if (n >= q * count)
        return le;
    return std::numeric_limits<double>::infinity();
  }
};

std::string bound_text(double le) {
  return std::isinf(le) ? std::string{"beyond the last bucket"}
                        : "<= " + fixed(le, 4) + " s";
}

/// Scrapes the server's /metrics every second in the background: the watch
/// lag per resource type, the delivery histogram and the 410 count, across
/// a restart of the server (whose counters start again at 0: `bank` keeps
/// what the old process counted).
class metrics_sampler {
public:
  explicit metrics_sampler(uint16_t port)
      : port_{port}, thread_{[this] { run(); }} {}

  ~metrics_sampler() { stop(); }

  metrics_sampler(const metrics_sampler&) = delete;
  metrics_sampler& operator=(const metrics_sampler&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

  /// Scrapes once more and keeps the counts of the running process; call
  /// right before it is killed.
  void bank() {
    scrape();
    std::lock_guard<std::mutex> guard{mutex_};
    banked_delivery_.add(last_delivery_);
    last_delivery_ = {};
    banked_gone_ += last_gone_;
    last_gone_ = 0;
  }

  /// 410 Gone answers over all processes, as of the last scrape.
  double gone_total() {
    std::lock_guard<std::mutex> guard{mutex_};
    return banked_gone_ + last_gone_;
  }

  /// Prints the lag figures; "absent" for metrics the server does not have.
  void report() {
    std::lock_guard<std::mutex> guard{mutex_};
    std::cout << "[ load ] " << num_scrapes_ << " scrapes of /metrics\n";
    if (lag_.empty()) {
      std::cout << "[ load ] kws_watch_lag_seconds: absent\n";
    } else {
      std::vector<double> all;
      std::string idle;
      for (auto& [resource, xs] : lag_) {
        all.insert(all.end(), xs.begin(), xs.end());
        auto max = *std::max_element(xs.begin(), xs.end());
        if (max == 0) {
          idle += (idle.empty() ? "" : ", ") + resource;
          continue;
        }
        std::cout << "[ load ] kws_watch_lag_seconds{resource=\"" << resource
                  << "\"}: max " << fixed(max) << " s, p99 "
                  << fixed(quantile(xs, 0.99)) << " s over " << xs.size()
                  << " samples\n";
      }
      std::cout << "[ load ] kws_watch_lag_seconds over all types: max "
                << fixed(*std::max_element(all.begin(), all.end()))
                << " s, p99 " << fixed(quantile(all, 0.99))
                << " s; always 0: " << (idle.empty() ? "none" : idle) << "\n";
    }
    auto delivery = banked_delivery_;
    delivery.add(last_delivery_);
    if (delivery.buckets.empty()) {
      std::cout << "[ load ] kws_watch_delivery_seconds: absent\n";
    } else if (delivery.count == 0) {
      std::cout << "[ load ] kws_watch_delivery_seconds: no observations\n";
    } else {
      std::cout << "[ load ] kws_watch_delivery_seconds: " << delivery.count
                << " changes, mean " << fixed(delivery.sum / delivery.count, 4)
                << " s, p99 " << bound_text(delivery.bound_of(0.99)) << ", max "
                << bound_text(delivery.bound_of(1)) << "\n";
    }
  }

private:
  void run() {
    while (!stop_) {
      auto next = std::chrono::steady_clock::now() + 1s;
      scrape();
      while (!stop_ && std::chrono::steady_clock::now() < next)
        std::this_thread::sleep_for(50ms);
    }
  }

  void scrape() {
    auto res = http_get(port_, "/metrics");
    if (res.status != 200)
      return; // the server is down or starting
    histogram_counts delivery;
    double gone = 0;
    std::map<std::string, double> lag;
    for (auto& s : parse_metrics(res.body)) {
      if (s.name == "kws_watch_lag_seconds") {
        lag[label_of(s, "resource")] = s.value;
      } else if (s.name == "kws_watch_delivery_seconds_bucket") {
        auto le = label_of(s, "le");
        delivery.buckets[le == "+Inf" ? std::numeric_limits<double>::infinity()
                                      : std::stod(le)]
          += s.value;
      } else if (s.name == "kws_watch_delivery_seconds_sum") {
        delivery.sum += s.value;
      } else if (s.name == "kws_watch_delivery_seconds_count") {
        delivery.count += s.value;
      } else if (s.name == "kws_watch_gone_total") {
        gone += s.value;
      }
    }
    std::lock_guard<std::mutex> guard{mutex_};
    ++num_scrapes_;
    for (auto& [resource, x] : lag)
      lag_[resource].push_back(x);
    last_delivery_ = delivery;
    last_gone_ = gone;
  }

  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  size_t num_scrapes_ = 0;
  std::map<std::string, std::vector<double>> lag_;
  histogram_counts banked_delivery_;
  histogram_counts last_delivery_;
  double banked_gone_ = 0;
  double last_gone_ = 0;
  // Last: started once everything it uses exists.
  std::thread thread_;
};

/// A span of one resource type whose intermediate versions the service
/// says it lost (GET /api/v1/coverage).
struct coverage_gap {
  std::string resource;
  std::string group;
  int64_t start = 0;
  int64_t end = std::numeric_limits<int64_t>::max();
  std::string reason;
};

/// The end of a gap as a bound: a time given in whole seconds covers all of
/// its second.
int64_t gap_bound(const std::string& text, int64_t fallback) {
  auto t = parse_rfc3339(text);
  if (!t)
    return fallback;
  auto fraction = text.find('.') != std::string::npos;
  return fraction ? *t : *t + 999'999'999;
}

/// The gaps the service reports between `from` and `to`; nothing when the
/// answer is not a 200 with the contract's shape (`status` and `body` say).
std::optional<std::vector<coverage_gap>> coverage_gaps(uint16_t port,
                                                       int64_t from, int64_t to,
                                                       int& status,
                                                       std::string& body) {
  // Whole seconds: the plainest form of RFC 3339.
  constexpr int64_t second = 1'000'000'000;
  auto res = http_get(port,
                      "/api/v1/coverage?start="
                        + format_rfc3339(from / second * second)
                        + "&end=" + format_rfc3339((to / second + 1) * second));
  status = res.status;
  body = res.body;
  rapidjson::Document doc;
  doc.Parse(res.body.c_str());
  if (res.status != 200 || !doc.IsObject() || !doc.HasMember("gaps")
      || !doc["gaps"].IsArray())
    return std::nullopt;
  auto text = [](const rapidjson::Value& v, const char* key) {
    return v.IsObject() && v.HasMember(key) && v[key].IsString()
      ? std::string{v[key].GetString()}
      : std::string{};
  };
  std::vector<coverage_gap> gaps;
  for (auto& g : doc["gaps"].GetArray()) {
    coverage_gap gap;
    gap.resource = text(g, "resourceType");
    gap.group = text(g, "group");
    gap.reason = text(g, "reason");
    auto start = parse_rfc3339(text(g, "start"));
    gap.start = start ? *start : 0;
    gap.end = gap_bound(text(g, "end"), gap.end);
    gaps.push_back(std::move(gap));
  }
  return gaps;
}

struct load : ::testing::Test {
  std::unique_ptr<private_cluster> cluster;
  std::filesystem::path dir;
  uint16_t port = 0;
  std::unique_ptr<server_process> server;

  const cluster_state& state() const { return cluster->state(); }

  void start_server() {
    server = std::make_unique<server_process>(
      std::map<std::string, std::string>{
        {"KUBECONFIG", state().kubeconfig},
        {"STORAGE_PATH", (dir / "store").string()},
        {"SERVER_PORT", std::to_string(port)},
        {"CONFIG_PATH", (dir / "resources.yaml").string()}},
      (dir / "server.log").string());
    ASSERT_TRUE(eventually(
      [this] { return http_get(port, "/readyz").status == 200; }, 120s))
      << "server never became ready; log in " << (dir / "server.log");
  }

  void SetUp() override {
    dir = std::filesystem::temp_directory_path()
      / ("kws-e2e-load-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    cluster = std::make_unique<private_cluster>(
      dir.string(),
      std::map<std::string, std::string>{{"KWS_AUDIT_LEVEL", "RequestResponse"},
                                         {"KWS_LEADER_ELECT", "false"}});
    ASSERT_TRUE(cluster->ok()) << "the cluster did not start";
    // The default flush interval: the batching the service ships with.
    std::ofstream{dir / "resources.yaml"} << "discoverCRDs: true\n";
    port = free_port();
    ASSERT_NO_FATAL_FAILURE(start_server());
  }

  void TearDown() override {
    // A clean exit, also under LeakSanitizer (which fails it on a leak).
    if (server && server->running()) {
      EXPECT_EQ(server->terminate(30s), 0)
        << "the server's exit; log in " << (dir / "server.log");
    }
    server.reset();
    cluster.reset();
    // Logs, store and audit log stay for a failure's diagnosis only.
    if (!HasFailure())
      std::filesystem::remove_all(dir);
    else
      std::cout << "[ load ] logs kept in " << dir << "\n";
  }
};

// About 200 audited writes a second for a minute with a kill -9 halfway:
// nothing the apiserver wrote is missing from the service's history or in it
// twice, except where the service itself reports a coverage gap (a 410 Gone
// made it relist, so intermediate versions are gone).
TEST_F(load, a_busy_cluster_and_a_kill_lose_no_history) {
  auto test_start = now_ns();
  // The CRD exists and is watched before churn starts, so no Widget changes
  // before its watcher's first list.
  std::string out;
  ASSERT_EQ(kubectl(state(), "apply -f -", &out, churn_crd_manifest), 0) << out;
  ASSERT_TRUE(eventually(
    [this] {
      return file_has(dir / "server.log",
                      "Started watching churn.kws.test/v1 (Widget)");
    },
    patience));
  ASSERT_TRUE(eventually(
    [this] { return http_get(port, "/readyz").status == 200; }, patience));

  auto prefix = "ld" + std::to_string(::getpid());
  audit_oracle oracle{state().audit_log, prefix, churn_watched_resources};
  metrics_sampler sampler{port};
  auto churn_log = dir / "churn.log";
  background_command churn{
    cluster_scripts_dir() + "/churn --rate " + std::to_string(churn_rate)
      + " --duration " + std::to_string(churn_seconds) + "s --seed 23"
      + " --namespaces " + std::to_string(churn_namespaces)
      + " --keep-namespaces --job-ttl 5s --prefix " + prefix,
    {{"KWS_CLUSTER_DIR", state().dir}},
    churn_log.string()};
  // The generator says when its namespaces are set up and the operations
  // start; the churn window is measured from there.
  ASSERT_TRUE(eventually(
    [&] {
      oracle.update();
      return file_has(churn_log, "namespaces ready") || churn.exited();
    },
    180s))
    << "the churn never started; see " << churn_log;
  ASSERT_TRUE(file_has(churn_log, "namespaces ready"))
    << "the churn ended early; see " << churn_log;
  auto churn_start = now_ns();
  // Reading the audit log as it grows keeps each read small.
  auto follow_until = [&](int64_t until) {
    while (now_ns() < until) {
      oracle.update();
      std::this_thread::sleep_for(500ms);
    }
  };
  follow_until(churn_start + int64_t{churn_seconds / 2} * 1'000'000'000);
  sampler.bank();
  server->kill();
  std::cout << "[ load ] killed the server after "
            << fixed(seconds(now_ns() - churn_start), 1) << " s of churn\n";
  // Changes while it is down: it resumes from what it made durable.
  follow_until(now_ns() + 3'000'000'000);
  ASSERT_NO_FATAL_FAILURE(start_server());
  std::cout << "[ load ] restarted, ready after "
            << fixed(seconds(now_ns() - churn_start), 1) << " s of churn\n";
  ASSERT_TRUE(eventually(
    [&] {
      oracle.update();
      return churn.exited();
    },
    std::chrono::seconds{churn_seconds} + 120s))
    << "the churn did not end; see " << churn_log;
  auto churn_end = now_ns();
  EXPECT_EQ(churn.wait(1s), 0) << "see " << churn_log;

  // Controllers finish what the churn started (pods start, Jobs end and are
  // deleted): the audit log is complete once it stays quiet for a while.
  auto quiet_since = std::chrono::steady_clock::now();
  auto seen_writes = oracle.num_writes;
  auto quiet = eventually(
    [&] {
      oracle.update();
      if (oracle.num_writes != seen_writes) {
        seen_writes = oracle.num_writes;
        quiet_since = std::chrono::steady_clock::now();
      }
      return std::chrono::steady_clock::now() - quiet_since >= 5s;
    },
    90s);
  if (!quiet)
    std::cout << "[ load ] the audit log never went quiet\n";
  ASSERT_TRUE(oracle.problems.empty())
    << ::testing::PrintToString(oracle.problems);

  // How busy it was: audited writes in scope during the churn.
  auto window = seconds(churn_end - churn_start);
  std::vector<size_t> per_slice(static_cast<size_t>(std::ceil(window / 10)) + 1,
                                0);
  size_t in_window = 0;
  for (auto t : oracle.completion_times) {
    if (t < churn_start || t > churn_end)
      continue;
    ++in_window;
    ++per_slice[static_cast<size_t>(seconds(t - churn_start) / 10)];
  }
  auto writes_per_second = static_cast<double>(in_window) / window;
  std::string slices;
  // Whole slices only: the last one is cut short.
  for (size_t i = 0; i < static_cast<size_t>(window / 10); ++i)
    slices
      += (i ? ", " : "") + fixed(static_cast<double>(per_slice[i]) / 10, 0);
  std::map<std::string, size_t> per_resource;
  for (auto& [key, versions] : oracle.versions)
    per_resource[key.resource] += versions.size();
  for (auto& [key, uids] : oracle.deleted_uids)
    per_resource[key.resource] += uids.size();
  for (auto& [key, writes] : oracle.bindings)
    per_resource[key.resource] += writes.size();
  std::string by_type;
  for (auto& [resource, n] : per_resource)
    by_type
      += (by_type.empty() ? "" : ", ") + resource + " " + std::to_string(n);
  std::cout << "[ load ] " << in_window << " audited writes in "
            << fixed(window, 1)
            << " s of churn: " << fixed(writes_per_second, 1)
            << " writes/s (per 10 s: " << slices << "); " << oracle.num_writes
            << " in all\n"
            << "[ load ] changes by type: " << by_type << "\n";

  // The service has caught up when its record count stays put for a while
  // and, where it reports the lag, nothing waits to become durable.
  double last_records = -1;
  auto settled_since = std::chrono::steady_clock::now();
  auto settled = eventually(
    [&] {
      auto res = http_get(port, "/metrics");
      double records = 0;
      double lag = 0;
      for (auto& s : parse_metrics(res.body)) {
        if (s.name == "kws_storage_records_total")
          records += s.value;
        if (s.name == "kws_watch_lag_seconds")
          lag = std::max(lag, s.value);
      }
      if (res.status != 200 || records != last_records || lag > 0) {
        last_records = records;
        settled_since = std::chrono::steady_clock::now();
      }
      return std::chrono::steady_clock::now() - settled_since >= 5s;
    },
    90s);
  std::cout << "[ load ] the service "
            << (settled ? "settled " : "was still writing ")
            << fixed(seconds(now_ns() - churn_end), 1)
            << " s after the churn ended\n";
  sampler.bank();
  sampler.stop();
  sampler.report();

  // A 410 Gone makes the service relist: what changed in between is lost,
  // and it must say so. Without one, the history must be exact.
  auto gone = sampler.gone_total();
  int coverage_status = 0;
  std::string coverage_body;
  auto gaps
    = coverage_gaps(port, test_start - 60'000'000'000,
                    now_ns() + 60'000'000'000, coverage_status, coverage_body);
  EXPECT_TRUE(gaps.has_value())
    << "GET /api/v1/coverage answered " << coverage_status << ": "
    << coverage_body.substr(0, 500);
  auto all_gaps = gaps.value_or(std::vector<coverage_gap>{});
  // The kill leaves a "server down" gap per type (what changed meanwhile is
  // replayed on resume), and the window starts before the first watch ("not
  // yet watched"); neither loses a version, only a relist does.
  std::vector<coverage_gap> reported;
  size_t down = 0;
  for (auto& g : all_gaps)
    if (g.reason == "server down")
      ++down;
    else if (g.reason != "not yet watched")
      reported.push_back(g);
  EXPECT_GT(down, 0u) << "no gap for the kill: " << coverage_body;
  std::cout << "[ load ] kws_watch_gone_total " << gone << ", coverage "
            << (gaps ? std::to_string(reported.size()) + " gaps"
                     : "answered " + std::to_string(coverage_status))
            << "\n";
  for (auto& g : all_gaps)
    std::cout << "[ load ]   gap " << g.resource
              << (g.group.empty() ? "" : "." + g.group) << " "
              << format_rfc3339(g.start) << " .. "
              << (g.end == std::numeric_limits<int64_t>::max()
                    ? std::string{"open"}
                    : format_rfc3339(g.end))
              << ": " << g.reason << "\n";
  if (gone == 0)
    EXPECT_TRUE(reported.empty()) << "gaps without a 410: " << coverage_body;
  else
    EXPECT_FALSE(reported.empty())
      << gone << " 410 answers forced relists, but no gap is reported";
  // Differences are excused only for writes of a gap's type inside it (a
  // write lies between the request's arrival and the answer). A gap starts
  // when the last change before it was read off the watch stream; a version
  // written just before that instant, after that change, can be lost too,
  // so a second of slack goes before the start.
  excuse_fn excuse;
  if (gone > 0)
    excuse = [&reported](const object_key& key, const write_time& when) {
      return std::any_of(
        reported.begin(), reported.end(), [&](const coverage_gap& g) {
          return g.resource == key.resource && when.received <= g.end
            && when.completed >= g.start - 1'000'000'000;
        });
    };

  // Read the audit log after the records: it may trail the watch a moment.
  oracle_comparison result;
  size_t num_records = 0;
  auto consistent = eventually(
    [&] {
      std::vector<record_digest> records;
      oracle.update();
      if (!fetch_namespaces(port, oracle.namespaces, records))
        return false;
      oracle.update();
      num_records = records.size();
      result = compare_in_detail(oracle, records, excuse);
      return result.differences.empty();
    },
    60s);
  std::cout << "[ load ] " << num_records << " records, " << oracle.num_writes
            << " audited writes in " << oracle.namespaces.size()
            << " namespaces: " << result.missing << " missing, "
            << result.duplicates << " duplicates, " << result.unexplained
            << " unexplained, " << result.excused << " excused by gaps\n"
            << "[ load ] " << fixed(seconds(now_ns() - test_start), 0)
            << " s since the server first started\n";
  auto num_diffs = result.differences.size();
  if (result.differences.size() > 30)
    result.differences.resize(30);
  EXPECT_TRUE(consistent) << num_diffs << " differences, the first: "
                          << ::testing::PrintToString(result.differences);
  EXPECT_GE(writes_per_second, busy_floor)
    << "the churn was not busy enough to prove anything";
}

} // namespace
} // namespace kws::test
