#include "util/metrics.hpp"

#include <gtest/gtest.h>

namespace kws::metrics {
namespace {

TEST(metrics_test, counters_render_in_prometheus_format) {
  auto& c = get_counter("kws_test_things_total", "Things counted.",
                        "resource=\"pods\"");
  c.inc();
  c.inc(2);
  EXPECT_EQ(&c,
            &get_counter("kws_test_things_total", "Things counted.",
                         "resource=\"pods\""));
  auto text = render_prometheus();
  EXPECT_NE(text.find("# HELP kws_test_things_total Things counted.\n"
                      "# TYPE kws_test_things_total counter\n"
                      "kws_test_things_total{resource=\"pods\"} 3\n"),
            std::string::npos)
    << text;
}

TEST(metrics_test, histograms_count_into_cumulative_buckets) {
  auto& h = get_histogram("kws_test_latency_seconds", "Latency.");
  h.observe(0.0007);
  h.observe(0.2);
  auto text = render_prometheus();
  EXPECT_NE(text.find("kws_test_latency_seconds_bucket{le=\"0.0005\"} 0\n"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("kws_test_latency_seconds_bucket{le=\"0.001\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("kws_test_latency_seconds_bucket{le=\"0.25\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("kws_test_latency_seconds_bucket{le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("kws_test_latency_seconds_count 2\n"), std::string::npos);
}

} // namespace
} // namespace kws::metrics
