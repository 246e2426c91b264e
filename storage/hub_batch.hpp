// How a hub sorts what it polled from the export topic: by cluster, minus
// the records it holds already, with the coverage gaps the servers sent.
// Pure; the HUB INGEST writes the result.
#pragma once

#include "messages/resource_event.hpp"
#include "messages/resource_type.hpp"
#include "storage/coverage_message.hpp"
#include "storage/kafka_consumer.hpp"
#include "storage/rocks_store.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kws::storage {

/// Per partition of the topic, the id of the newest record of one cluster
/// stored from it. A server exports in id order and a partition keeps the
/// order it was given (idempotent producer), so a record at or below the
/// mark was stored before: a replay after a crash of the hub, or a record
/// the exporter sent again after its own.
using hub_marks = std::map<int32_t, uint64_t>;

/// The cursor (`rocks_store::export_cursor`) a hub keeps the mark of one
/// partition of `topic` under, in the cluster's store.
std::string hub_cursor_name(std::string_view topic, int32_t partition);

/// What one cluster's store gets of a poll.
struct hub_cluster_batch {
  std::vector<resource_event> events;
  /// The marks after these records, of the partitions they came from.
  hub_marks marks;
  /// Each type of these records once, with the resourceVersion of its last
  /// record here (the store's checkpoint, which lists the types held).
  std::map<std::string, resource_type> types;
  checkpoint_map checkpoints;
  /// The cluster's coverage gaps and first-watch times, from its latest
  /// coverage message here.
  std::vector<coverage_gap> gaps;
  first_watch_map first_watched;
};

/// A poll, sorted.
struct hub_batch {
  std::map<std::string, hub_cluster_batch> clusters;
  /// Records held already (at or below their partition's mark).
  size_t repeated = 0;
  /// Records of clusters this hub does not serve.
  size_t other_clusters = 0;
  /// One line per message that is no record (the message is passed over:
  /// reading it again would not mend it).
  std::vector<std::string> unreadable;
};

/// Sorts `polled` by cluster. `held` has an entry for every cluster served
/// (its marks may lack partitions not seen yet: nothing held from them).
hub_batch plan_hub_batch(const std::vector<kafka_received>& polled,
                         const std::map<std::string, hub_marks>& held);

} // namespace kws::storage
