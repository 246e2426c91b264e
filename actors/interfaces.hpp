// The protocol of k8s-watch-server: every typed actor interface in one place.
// Read this file first; each handler says who sends it and what the reply
// means.
#pragma once

#include "actors/reflector_input.hpp"
#include "kube/type_catalog.hpp"
#include "messages/type_ids.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kws {

/// Where a WATCHER sends its records: STORAGE, or the CORRELATOR for Events.
using ingest_sink_actor = caf::typed_actor<
  // From WATCHERs: appends records; replies once they and the checkpoint are
  // durable. The reply is the back-pressure: a watcher sends its next batch
  // only after it.
  caf::replies_to<ingest_batch>::with<atom::ok>>;

/// Who writes a consistent backup of a store: STORAGE on a server, a STORE
/// BACKUP per cluster at a hub.
using backup_actor = caf::typed_actor<
  // From the HTTP handler: writes a consistent backup into the directory,
  // which lies inside the backup root (the second); replies with the
  // directory.
  caf::replies_to<atom::backup, std::string, std::string>::with<std::string>>;

/// The STORAGE actor interface. Batches records into RocksDB; spawned
/// detached by the SUPERVISOR because RocksDB writes block.
using storage_actor = caf::typed_actor<
  // From the SUPERVISOR on shutdown and from tests: writes what is buffered;
  // replies with the number of records written.
  caf::replies_to<atom::flush>::with<uint64_t>,
  // From WATCHERs before a relist diff: the live objects of a resource type
  // (by `group_resource`).
  caf::replies_to<atom::live, std::string>::with<std::vector<live_object>>,
  // From WATCHERs on start: the persisted resourceVersion to resume from.
  caf::replies_to<atom::checkpoint, std::string>::with<watch_checkpoint>,
  // INTERNAL: write batch generation N (queued behind the mailbox).
  caf::reacts_to<atom::internal, atom::flush, uint64_t>,
  // INTERNAL: time to drop expired partitions.
  caf::reacts_to<atom::internal, atom::retention>,
  // INTERNAL: time to note in the store that the server is alive.
  caf::reacts_to<atom::internal, atom::tick>>::extend_with<ingest_sink_actor,
                                                           backup_actor>;

/// The EXPORTER actor interface: sends every stored record to Kafka in the
/// order it was stored (`export.kafka`). Spawned detached by the SUPERVISOR
/// because it waits for the broker's acknowledgements. It reads what to send
/// from the store (the outbox), so it takes no message from other actors.
using exporter_actor = caf::typed_actor<
  // INTERNAL: send what was stored since the cursor.
  caf::reacts_to<atom::internal, atom::tick>>;

/// The HUB INGEST actor interface (`k8s-watch-server hub`): consumes the
/// export topic into one store per cluster. Spawned detached by the HUB
/// SUPERVISOR because polling Kafka blocks; it takes no message from other
/// actors.
using hub_ingest_actor = caf::typed_actor<
  // INTERNAL: poll the topic once and store what came.
  caf::reacts_to<atom::internal, atom::tick>,
  // INTERNAL: time to drop expired partitions of every cluster's store.
  caf::reacts_to<atom::internal, atom::retention>>;

/// The INDEX actor interface. Answers queries from RocksDB snapshots.
using index_actor = caf::typed_actor<
  // From the HTTP handler: one page of `GET /api/v1/events`.
  caf::replies_to<event_query>::with<event_page>,
  // From the HTTP handler: the history of one object by name.
  caf::replies_to<history_query>::with<object_history>,
  // From the HTTP handler: the coverage gaps overlapping a window.
  caf::replies_to<coverage_query>::with<std::vector<coverage_gap>>,
  // From the HTTP handler: how many gaps of a type overlap a window.
  caf::replies_to<gap_count_query>::with<uint64_t>,
  // From the HTTP handler: one record by id (`found == false`: 404).
  caf::replies_to<record_query>::with<json_answer>,
  // From the HTTP handler: the patch between two versions of an object.
  caf::replies_to<diff_query>::with<json_answer>,
  // From the HTTP handler: who last changed each field of an object.
  caf::replies_to<blame_query>::with<json_answer>,
  // From the HTTP handler: every object as it was at a moment.
  caf::replies_to<snapshot_query>::with<json_answer>,
  // From the HTTP handler: one entry per object changed in a window.
  caf::replies_to<changes_query>::with<json_answer>>;

/// The CORRELATOR actor interface. Links Kubernetes Events to the objects
/// they are about, then hands them to STORAGE.
/// As an ingest sink it receives the Event WATCHER's records, sets each
/// record's link target and delegates to STORAGE, whose `ok` is the reply.
using correlator_actor = caf::typed_actor<
  // From DISCOVERY whenever its view changes: every known resource type, to
  // map an involvedObject's apiVersion and kind to a plural resource name.
  caf::reacts_to<std::vector<resource_type>>>::extend_with<ingest_sink_actor>;

/// The WATCHER actor interface: a reflector over one resource type. Its
/// transport runs on Asio threads and answers through the INTERNAL handlers.
using watcher_actor = caf::typed_actor<
  // INTERNAL: an answer of the transport (a list page, a watch opened, what
  // a read of the stream yielded) or the end of a wait of the reflector.
  caf::reacts_to<atom::internal, reflector_input>,
  // INTERNAL: send the in-flight batch again after its sink failed it.
  caf::reacts_to<atom::internal, atom::flush>,
  // INTERNAL: time to measure the lag behind the stream.
  caf::reacts_to<atom::internal, atom::tick>,
  // INTERNAL: whether the object with this uid (of a DELETED event under a
  // selector) still exists.
  caf::reacts_to<atom::internal, atom::live, std::string, bool>>;

/// Where DISCOVERY hands its type catalog: the HTTP HANDLER.
using catalog_sink_actor = caf::typed_actor<
  // From DISCOVERY whenever the types it knows or watches change (and once
  // when the sink is added): what queries resolve `resourceType` against.
  caf::reacts_to<kube::type_catalog_ptr>>;

/// The DISCOVERY actor interface. Decides the watched set, spawns one
/// WATCHER per type and owns readiness.
using discovery_actor = caf::typed_actor<
  // From the HTTP handler: readiness and per-watcher status.
  caf::replies_to<atom::status>::with<readiness>,
  // From the HTTP handler until it has a type catalog: resolves a
  // resourceType parameter (plural, kind, singular, short name or
  // plural.group) to one resource type.
  caf::replies_to<atom::resolve, std::string>::with<resource_type>,
  // From the SUPERVISOR: send every new type catalog there, the current one
  // at once.
  caf::reacts_to<atom::add, catalog_sink_actor>,
  // From WATCHERs: their status changed (synced, failing, recovered).
  caf::reacts_to<watcher_status>,
  // From the SUPERVISOR: a reloaded configuration; watchers start, stop or
  // restart to match it.
  caf::replies_to<watch_settings>::with<atom::ok>,
  // INTERNAL: a discovery run finished with these resource types.
  caf::reacts_to<atom::internal, std::vector<api_resource>>,
  // INTERNAL: an answer of the CRD reflector's transport, or the end of
  // one of its waits.
  caf::reacts_to<atom::internal, reflector_input>,
  // INTERNAL: a discovery run failed; retried after a backoff.
  caf::reacts_to<atom::internal, atom::failed, caf::error>,
  // INTERNAL: time to run discovery again (generation N).
  caf::reacts_to<atom::internal, atom::tick, uint64_t>,
  // INTERNAL: time to restart the watcher of a resource type.
  caf::reacts_to<atom::internal, atom::start, std::string>>;

/// The ACCESS actor interface. Says who holds a bearer token and what they
/// may read, from the apiserver's reviews (cached for a short time).
using access_actor = caf::typed_actor<
  // From the HTTP handler: the caller of `token` and the filter of what they
  // may get of the request's types; `unauthenticated` for a token that is
  // not valid, `unavailable` when the apiserver could not answer.
  caf::replies_to<access_request>::with<access_grant>,
  // INTERNAL: a TokenReview (by token digest) found this caller, or failed.
  caf::reacts_to<atom::internal, atom::authn, std::string, caller, caf::error>,
  // INTERNAL: a SubjectAccessReview (by cache key) allowed or denied, or
  // failed.
  caf::reacts_to<atom::internal, atom::authz, std::string, bool, caf::error>,
  // INTERNAL: the live namespaces, or why they could not be listed.
  caf::reacts_to<atom::internal, atom::list, std::vector<std::string>,
                 caf::error>>;

/// The HTTP HANDLER actor interface. Turns a request into a response by
/// asking INDEX and DISCOVERY; never touches sockets.
using http_handler_actor = caf::typed_actor<
  // From the HTTP RELAY: one request; the reply is its response.
  caf::replies_to<http_request>::with<http_response>>::
  extend_with<catalog_sink_actor>;

/// The HTTP RELAY actor interface. Carries the REST server's requests to the
/// HTTP HANDLER and its replies back.
using http_relay_actor = caf::typed_actor<
  // From the REST server: one request and the responder that writes its
  // answer.
  caf::reacts_to<http_request, responder_ptr>>;

/// The SUPERVISOR actor interface. Starts the actors in order and restarts
/// failed ones.
using supervisor_actor = caf::typed_actor<
  // From main(): readiness of the whole service.
  caf::replies_to<atom::status>::with<readiness>,
  // From main() once, after start: the relay the REST server feeds.
  caf::replies_to<atom::get>::with<http_relay_actor>,
  // From main() on SIGTERM: flush storage and stop; replies when done.
  caf::replies_to<atom::stop>::with<atom::ok>,
  // From main(): a reloaded configuration, for DISCOVERY.
  caf::replies_to<watch_settings>::with<atom::ok>>;

} // namespace kws

// Shared and immutable: handed between actors of one process only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kws::kube::type_catalog_ptr)

// clang-format off
CAF_BEGIN_TYPE_ID_BLOCK(kws_actors, caf::id_block::kws_messages::end)
  CAF_ADD_TYPE_ID(kws_actors, (kws::reflector_input))
  CAF_ADD_TYPE_ID(kws_actors, (kws::kube::type_catalog_ptr))
  CAF_ADD_TYPE_ID(kws_actors, (kws::catalog_sink_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::ingest_sink_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::storage_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::index_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::correlator_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::watcher_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::discovery_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::access_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::http_handler_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::http_relay_actor))
  CAF_ADD_TYPE_ID(kws_actors, (kws::supervisor_actor))
CAF_END_TYPE_ID_BLOCK(kws_actors)
// clang-format on
