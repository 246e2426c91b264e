// The type-ID block of every message type and the project's atoms.
#pragma once

#include "messages/access.hpp"
#include "messages/change_query.hpp"
#include "messages/coverage.hpp"
#include "messages/http.hpp"
#include "messages/query.hpp"
#include "messages/resource_event.hpp"
#include "messages/resource_type.hpp"
#include "messages/status.hpp"
#include "messages/watch.hpp"
#include "messages/watch_filter.hpp"
#include "util/errors.hpp"

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include <vector>

#define KWS_ADD_TYPE_ID(T) CAF_ADD_TYPE_ID(kws_messages, T)
#define KWS_ADD_ATOM(name, text) \
  CAF_ADD_ATOM(kws_messages, kws::atom, name, text)

// clang-format off
CAF_BEGIN_TYPE_ID_BLOCK(kws_messages, caf::first_custom_type_id)
  KWS_ADD_TYPE_ID((kws::resource_type))
  KWS_ADD_TYPE_ID((std::vector<kws::resource_type>))
  KWS_ADD_TYPE_ID((kws::api_resource))
  KWS_ADD_TYPE_ID((std::vector<kws::api_resource>))
  KWS_ADD_TYPE_ID((kws::resource_event))
  KWS_ADD_TYPE_ID((std::vector<kws::resource_event>))
  KWS_ADD_TYPE_ID((kws::ingest_batch))
  KWS_ADD_TYPE_ID((kws::responder_ptr))
  KWS_ADD_TYPE_ID((kws::event_query))
  KWS_ADD_TYPE_ID((kws::event_page))
  KWS_ADD_TYPE_ID((kws::history_query))
  KWS_ADD_TYPE_ID((kws::object_history))
  KWS_ADD_TYPE_ID((kws::http_request))
  KWS_ADD_TYPE_ID((kws::http_response))
  KWS_ADD_TYPE_ID((kws::watch_event))
  KWS_ADD_TYPE_ID((std::vector<kws::watch_event>))
  KWS_ADD_TYPE_ID((kws::list_result))
  KWS_ADD_TYPE_ID((kws::live_object))
  KWS_ADD_TYPE_ID((std::vector<kws::live_object>))
  KWS_ADD_TYPE_ID((kws::watch_checkpoint))
  KWS_ADD_TYPE_ID((kws::watcher_status))
  KWS_ADD_TYPE_ID((std::vector<kws::watcher_status>))
  KWS_ADD_TYPE_ID((kws::readiness))
  KWS_ADD_TYPE_ID((kws::verb))
  KWS_ADD_TYPE_ID((kws::watch_event_type))
  KWS_ADD_TYPE_ID((kws::coverage_gap))
  KWS_ADD_TYPE_ID((std::vector<kws::coverage_gap>))
  KWS_ADD_TYPE_ID((kws::coverage_query))
  KWS_ADD_TYPE_ID((kws::gap_count_query))
  KWS_ADD_TYPE_ID((kws::record_query))
  KWS_ADD_TYPE_ID((kws::object_ref))
  KWS_ADD_TYPE_ID((kws::diff_query))
  KWS_ADD_TYPE_ID((kws::blame_query))
  KWS_ADD_TYPE_ID((kws::window_query))
  KWS_ADD_TYPE_ID((kws::snapshot_query))
  KWS_ADD_TYPE_ID((kws::changes_query))
  KWS_ADD_TYPE_ID((kws::json_answer))
  KWS_ADD_TYPE_ID((kws::watch_filter))
  KWS_ADD_TYPE_ID((kws::watch_filters))
  KWS_ADD_TYPE_ID((kws::watch_settings))
  KWS_ADD_TYPE_ID((kws::status_updates))
  KWS_ADD_TYPE_ID((kws::caller))
  KWS_ADD_TYPE_ID((kws::access_filter))
  KWS_ADD_TYPE_ID((kws::access_request))
  KWS_ADD_TYPE_ID((kws::access_grant))

  // Atom texts are at most 10 characters and unique in the project: equal
  // texts are the same type in CAF 0.17.
  KWS_ADD_ATOM(ok, "ok")
  KWS_ADD_ATOM(flush, "flush")
  KWS_ADD_ATOM(get, "get")
  KWS_ADD_ATOM(resolve, "resolve")
  KWS_ADD_ATOM(status, "status")
  KWS_ADD_ATOM(internal, "internal")
  KWS_ADD_ATOM(tick, "tick")
  KWS_ADD_ATOM(start, "start")
  KWS_ADD_ATOM(stop, "stop")
  KWS_ADD_ATOM(backup, "backup")
  KWS_ADD_ATOM(retention, "retention")
  KWS_ADD_ATOM(live, "live")
  KWS_ADD_ATOM(checkpoint, "checkpoint")
  KWS_ADD_ATOM(list, "list")
  KWS_ADD_ATOM(events, "events")
  KWS_ADD_ATOM(failed, "failed")
  KWS_ADD_ATOM(add, "add")
  KWS_ADD_ATOM(remove, "remove")
  KWS_ADD_ATOM(metrics, "metrics")
  KWS_ADD_ATOM(authn, "authn")
  KWS_ADD_ATOM(authz, "authz")
CAF_END_TYPE_ID_BLOCK(kws_messages)
// clang-format on
