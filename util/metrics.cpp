#include "util/metrics.hpp"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>
#include <variant>

namespace kws::metrics {

namespace {

struct family {
  std::string help;
  std::string type;
  std::map<std::string, std::unique_ptr<counter>> counters;
  std::map<std::string, std::unique_ptr<gauge>> gauges;
  std::map<std::string, std::unique_ptr<histogram>> histograms;
};

struct registry {
  std::mutex mtx;
  std::map<std::string, family, std::less<>> families;

  family& get(std::string_view name, std::string_view help,
              std::string_view type) {
    auto i = families.find(name);
    if (i == families.end())
      i = families
            .emplace(std::string{name},
                     family{std::string{help}, std::string{type}, {}, {}, {}})
            .first;
    return i->second;
  }
};

registry& global() {
  static registry instance;
  return instance;
}

} // namespace

void histogram::observe(double x) {
  for (size_t i = 0; i < n_; ++i)
    if (x <= bounds_[i])
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(x * 1e6),
                        std::memory_order_relaxed);
}

void histogram::render(std::string& out, std::string_view name,
                       std::string_view labels) const {
  auto sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < n_; ++i)
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep,
                       bounds_[i], buckets_[i].load());
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep,
                     count_.load());
  auto braces = labels.empty() ? std::string{} : fmt::format("{{{}}}", labels);
  out += fmt::format("{}_sum{} {}\n", name, braces,
                     static_cast<double>(sum_micros_.load()) / 1e6);
  out += fmt::format("{}_count{} {}\n", name, braces, count_.load());
}

counter& get_counter(std::string_view name, std::string_view help,
                     std::string_view labels) {
  auto& reg = global();
  std::lock_guard guard{reg.mtx};
  auto& fam = reg.get(name, help, "counter");
  auto& ptr = fam.counters[std::string{labels}];
  if (!ptr)
    ptr = std::make_unique<counter>();
  return *ptr;
}

namespace {

gauge& find_gauge(std::string_view name, std::string_view help,
                  std::string_view labels, int64_t divisor) {
  auto& reg = global();
  std::lock_guard guard{reg.mtx};
  auto& fam = reg.get(name, help, "gauge");
  auto& ptr = fam.gauges[std::string{labels}];
  if (!ptr)
    ptr = std::make_unique<gauge>(divisor);
  return *ptr;
}

} // namespace

gauge& get_gauge(std::string_view name, std::string_view help,
                 std::string_view labels) {
  return find_gauge(name, help, labels, 1);
}

gauge& get_seconds_gauge(std::string_view name, std::string_view help,
                         std::string_view labels) {
  return find_gauge(name, help, labels, 1000);
}

histogram& get_histogram(std::string_view name, std::string_view help,
                         std::string_view labels) {
  auto& reg = global();
  std::lock_guard guard{reg.mtx};
  auto& fam = reg.get(name, help, "histogram");
  auto& ptr = fam.histograms[std::string{labels}];
  if (!ptr)
    ptr = std::make_unique<histogram>(latency_buckets.data(),
                                      latency_buckets.size());
  return *ptr;
}

std::string render_prometheus() {
  auto& reg = global();
  std::lock_guard guard{reg.mtx};
  std::string out;
  // Not a structured binding: clang 14 cannot capture those in the lambda.
  for (auto& entry : reg.families) {
    const auto& name = entry.first;
    auto& fam = entry.second;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, fam.help, name,
                       fam.type);
    auto line = [&](const std::string& labels, auto value) {
      if (labels.empty())
        out += fmt::format("{} {}\n", name, value);
      else
        out += fmt::format("{}{{{}}} {}\n", name, labels, value);
    };
    for (auto& [labels, c] : fam.counters)
      line(labels, c->value());
    for (auto& [labels, g] : fam.gauges) {
      if (g->divisor() == 1)
        line(labels, g->value());
      else
        line(labels,
             static_cast<double>(g->value())
               / static_cast<double>(g->divisor()));
    }
    for (auto& [labels, h] : fam.histograms)
      h->render(out, name, labels);
  }
  return out;
}

} // namespace kws::metrics
