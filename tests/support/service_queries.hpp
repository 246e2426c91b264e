// What e2e tests ask a running k8s-watch-server: its records, reduced to what
// the audit oracle checks, and its Prometheus metrics; and the scope the
// churn generator (tests/cluster/churn) writes to.
#pragma once

#include "tests/support/audit_oracle.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace kws::test {

/// The 17 default types and the churn generator's CRD.
extern const std::set<std::string> churn_watched_resources;

/// The churn generator's CRD. Tests apply it before churn starts, so that
/// its watcher has listed before the first Widget changes.
extern const char* const churn_crd_manifest;

/// Appends every record matching `query` (a query string without limit),
/// all pages, to `out`; false when a page is not a 200 (polling callers
/// retry, so this does not fail the test itself).
bool fetch_all(uint16_t port, const std::string& query,
               std::vector<record_digest>& out);

/// Appends the records of every object in the namespaces `names` and of
/// those namespaces themselves to `out`; false when a page is not a 200.
bool fetch_namespaces(uint16_t port, const std::set<std::string>& names,
                      std::vector<record_digest>& out);

/// One sample line of Prometheus text format.
struct metric_sample {
  std::string name;
  /// The text between the braces, e.g. `resource="pods"`.
  std::string labels;
  double value = 0;
};

/// The samples of a Prometheus text exposition (comments left out).
std::vector<metric_sample> parse_metrics(const std::string& text);

/// The value of label `key` in a sample's `labels` ("" when absent).
std::string label_of(const metric_sample& sample, const std::string& key);

/// The sum over all label sets of the metric `name` of the server at `port`
/// (0 if absent).
double metric(uint16_t port, const std::string& name);

} // namespace kws::test
