// A server's coverage gaps on their way to a hub, and back. Pure.
//
// The exporter sends the whole list of its store's gaps (few: one per type
// and restart or relist) and when it first watched each type, whenever they
// changed, as a message keyed `cluster/coverage` whose value is
// `{"coverage":[...],"firstWatched":{...},"cluster":"..."}`; record messages
// start with `{"id":`, so the two never mix. A hub stores them in that
// cluster's store, where an equal gap replaces its copy and an earlier
// first-watch time a later one, so a message read again changes nothing.
#pragma once

#include "messages/coverage.hpp"
#include "storage/kafka_producer.hpp"

#include <caf/expected.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kws::storage {

/// When each resource type (`group_resource`) was first watched, in
/// nanoseconds since the epoch.
using first_watch_map = std::map<std::string, int64_t>;

/// The message carrying `gaps` and `first_watched` from `cluster`.
kafka_message coverage_message(const std::vector<coverage_gap>& gaps,
                               const first_watch_map& first_watched,
                               std::string_view cluster);

/// Whether a message's value is a coverage message, not a record.
bool is_coverage_message(std::string_view value);

/// A coverage message as a hub reads it.
struct hub_coverage {
  std::string cluster;
  std::vector<coverage_gap> gaps;
  first_watch_map first_watched;
};

/// Reads a coverage message's value; an error names what is wrong.
caf::expected<hub_coverage> parse_coverage_message(std::string_view value);

} // namespace kws::storage
