// The one transformation from a watch event (or list item) to the REST
// contract's event record. The ingest path and the tests both use it, so the
// record a client sees is defined here and nowhere else.
#pragma once

#include "messages/object_facts.hpp"
#include "messages/resource_event.hpp"
#include "messages/resource_type.hpp"
#include "storage/object_text.hpp"

#include <caf/expected.hpp>
#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace kws::storage {

/// The `user` of records whose object names no field manager.
inline constexpr std::string_view default_user = "system:k8s-watcher";

/// How one record is built.
struct record_options {
  /// True for a create found by the watcher's first list: the record's
  /// timestamp is then the object's `metadata.creationTimestamp` (falling
  /// back to `now_ns` when it is missing or malformed).
  bool from_initial_list = false;
  /// True for a delete inferred by a relist; adds `"finalStateUnknown":true`.
  bool final_state_unknown = false;
  /// Replace each Secret `data`/`stringData` value (and a kubectl
  /// last-applied annotation, which repeats them) by its digest
  /// (`secret_digest.hpp`).
  bool digest_secrets = true;
  /// The object text is compact JSON, as the apiserver writes it: copy it
  /// into `objectChanges` (minus managedFields) instead of re-serializing.
  bool copy_object_text = false;
  /// The install's key of those digests (`hmac-sha256:<hex>`); empty: plain
  /// `sha256:<hex>`.
  std::string_view digest_key = {};
  /// What the watch line's pass read from the object (`object_facts`): when
  /// complete, a record whose object needs no change but the managedFields
  /// cut is built from them and the text, without parsing it again.
  const object_facts* facts = nullptr;
};

/// Builds the event record of one change of one object.
/// @param rt the resource type the object was watched as.
/// @param v what happened (ADDED → create, MODIFIED → update, DELETED →
/// delete).
/// @param object_json the object as the apiserver sent it.
/// @param now_ns when the watch delivered it (nanoseconds since the epoch).
/// @returns the event with `record` holding the contract's JSON object
///          (every field except `id`) and the index fields filled in
///          (`link_*` stay empty for the correlator), or `ec::parse_error`
///          when the object is not valid JSON or lacks `metadata.name`.
caf::expected<resource_event> build_record(const resource_type& rt, verb v,
                                           std::string_view object_json,
                                           int64_t now_ns,
                                           const record_options& opts = {});

/// Builds the same record from an object already parsed (the watch line's
/// document), so it is not parsed twice.
/// @param doc the parsed object; `metadata.managedFields` is erased from
///        it (and Secret values digested) in place.
/// @param alloc the allocator of the document that holds `doc`.
/// @param object_text the object's exact JSON text if known (else empty):
///        `objectChanges` is then copied from it, minus managedFields,
///        instead of being serialized from `object`.
caf::expected<resource_event>
build_record(const resource_type& rt, verb v, rapidjson::Value& doc,
             rapidjson::Document::AllocatorType& alloc,
             std::string_view object_text, int64_t now_ns,
             const record_options& opts = {});

/// True for the resource types holding Kubernetes Event objects
/// (core `events` and `events.k8s.io` `events`).
bool is_event_type(const resource_type& rt);

} // namespace kws::storage
