// Process-wide counters and histograms, rendered in Prometheus text format.
// Every layer counts into the same registry; `/metrics` renders it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace kws::metrics {

/// A monotonically increasing count. Lives as long as the process.
class counter {
public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> value_{0};
};

/// A value that goes up and down (bytes on disk, watchers running). It
/// holds an integer and renders it divided by `divisor` (1000 for a value
/// kept in milliseconds and exported in seconds).
class gauge {
public:
  explicit gauge(int64_t divisor = 1) : divisor_{divisor} {}
  void set(int64_t x) { value_.store(x, std::memory_order_relaxed); }
  void add(int64_t x) { value_.fetch_add(x, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }
  int64_t divisor() const { return divisor_; }

private:
  std::atomic<int64_t> value_{0};
  int64_t divisor_;
};

/// Upper bounds of the latency buckets, in seconds.
inline constexpr std::array<double, 12> latency_buckets{
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

/// A latency (or size) distribution with fixed buckets.
class histogram {
public:
  explicit histogram(const double* bounds, size_t n) : bounds_{bounds}, n_{n} {}
  void observe(double x);
  /// How many values were observed.
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  /// Renders the bucket, sum and count lines.
  void render(std::string& out, std::string_view name,
              std::string_view labels) const;

private:
  const double* bounds_;
  size_t n_;
  std::array<std::atomic<uint64_t>, 16> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

/// The counter `name{labels}`, created on first use. `labels` is the text
/// between the braces, e.g. `resource="pods"`; keep the set small.
counter& get_counter(std::string_view name, std::string_view help,
                     std::string_view labels = {});

gauge& get_gauge(std::string_view name, std::string_view help,
                 std::string_view labels = {});

/// A gauge set in milliseconds and exported in seconds.
gauge& get_seconds_gauge(std::string_view name, std::string_view help,
                         std::string_view labels = {});

/// A histogram with `latency_buckets` (seconds).
histogram& get_histogram(std::string_view name, std::string_view help,
                         std::string_view labels = {});

/// Everything registered, in Prometheus text exposition format 0.0.4.
std::string render_prometheus();

} // namespace kws::metrics
