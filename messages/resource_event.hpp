// One observed change of one Kubernetes object, as stored and served.
#pragma once

#include "messages/coverage.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace kws {

/// What happened to the object (ADDED, MODIFIED, DELETED on the wire).
enum class verb : uint8_t { create, update, remove };

/// Returns "create", "update" or "delete" (the contract's spelling).
inline std::string to_string(verb x) {
  switch (x) {
    case verb::create: return "create";
    case verb::update: return "update";
    case verb::remove: return "delete";
  }
  return "unknown";
}

/// One change record. Built once at ingest from the watch event; `record`
/// already holds the response-ready JSON of the REST contract's event record
/// (every contract field except `id`, which storage assigns and splices in
/// as the first member). The other members are the keys storage indexes by.
struct resource_event {
  /// When the change happened, nanoseconds since the Unix epoch (UTC).
  int64_t timestamp_ns = 0;
  verb action = verb::create;
  /// `metadata.namespace`; "" for cluster-scoped objects.
  std::string ns;
  /// Plural resource name, e.g. "pods".
  std::string resource;
  /// API group of the resource ("" for core).
  std::string group;
  std::string name;
  std::string uid;
  std::string resource_version;
  /// Field manager of the newest managedFields entry.
  std::string user;
  /// True for deletes inferred by a relist (the object vanished unseen).
  bool final_state_unknown = false;
  /// The contract's record as a JSON object, without `id`.
  std::string record;
  /// For Kubernetes Event objects: the object it is about, resolved by the
  /// correlator to namespace, plural resource and name. Empty otherwise.
  std::string link_ns;
  std::string link_resource;
  std::string link_name;
  /// For Kubernetes Event objects: the object's `involvedObject` (or
  /// `regarding`), which the correlator resolves to the link above.
  std::string involved_uid;
  std::string involved_kind;
  std::string involved_api_version;
  std::string involved_ns;
  std::string involved_name;
  /// For Kubernetes Event objects: true when its `type` is Warning.
  bool warning = false;
  /// `metadata.managedFields` as compact JSON ("" when none). Not part of
  /// the stored record: STORAGE reads who changed what from it at ingest.
  std::string managed_fields;
  /// Byte range of `,"message":"..."` in `record`, which STORAGE rewrites
  /// once it knows what changed; `message_end == 0` when unknown.
  uint32_t message_begin = 0;
  uint32_t message_end = 0;
  /// Offset of the `objectChanges` value in `record` (0 when unknown).
  uint32_t object_begin = 0;
  /// An update STORAGE drops when it changed only `status` (the type's
  /// `statusUpdates: drop`).
  bool drop_if_status_only = false;
  /// The id this record keeps, 1 and up; 0 lets STORAGE assign the next.
  /// A hub stores each cluster's records under the ids that cluster gave.
  uint64_t seq = 0;
  /// The record was enriched where it was first stored (a hub's records):
  /// STORAGE keeps `record` as it is and counts it as `stored_class` (a
  /// `storage::change_class`), since the fields it would need to enrich it
  /// again (`managed_fields`) do not travel.
  bool enriched = false;
  uint8_t stored_class = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_event& x) {
  return f(caf::meta::type_name("kws.resource_event"), x.timestamp_ns, x.action,
           x.ns, x.resource, x.group, x.name, x.uid, x.resource_version, x.user,
           x.final_state_unknown, x.record, x.link_ns, x.link_resource,
           x.link_name, x.involved_uid, x.involved_kind, x.involved_api_version,
           x.involved_ns, x.involved_name, x.warning, x.managed_fields,
           x.message_begin, x.message_end, x.object_begin,
           x.drop_if_status_only, x.seq, x.enriched, x.stored_class);
}

} // namespace kws

#include <vector>

namespace kws {

/// What a watcher hands to storage in one go: the records of one read of its
/// stream and the resourceVersion up to which they are complete, so records
/// and checkpoint become durable together.
struct ingest_batch {
  /// `resource_type::group_resource()` of the watcher.
  std::string group_resource;
  std::vector<resource_event> events;
  /// The checkpoint to persist with the records; "" leaves it unchanged.
  std::string resource_version;
  /// Coverage gaps the records close (a relist after a broken watch),
  /// stored in the same write. The initializer lets the many batches built
  /// as `{resource, records, rv}` leave it out without a warning.
  std::vector<coverage_gap> gaps = {};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ingest_batch& x) {
  return f(caf::meta::type_name("kws.ingest_batch"), x.group_resource, x.events,
           x.resource_version, x.gaps);
}

} // namespace kws
