// One-line human summaries of a change ("Update deployments web:
// /spec/replicas 2→3"), with the states that matter to someone on call
// (a container in ImagePullBackOff, a Node turning NotReady) first.
#pragma once

#include "storage/json_diff.hpp"

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kws::storage {

/// Messages stay below this many bytes.
inline constexpr size_t max_message_size = 512;

/// Shown values are cut to this many characters (code points) plus "…".
inline constexpr size_t max_value_chars = 40;

/// Summary of an update: `prefix` is the existing
/// "<Verb> <resourceType> <name>" (e.g. "Update deployments web").
/// Returns prefix + ": " + parts joined by "; " where parts are, in order:
///  1. for a Pod: each container (status.containerStatuses,
///     initContainerStatuses, ephemeralContainerStatuses) whose `state` in
///     `to` is waiting or terminated and whose state kind or reason differs
///     from `from`: `container <name> waiting: <reason>[: <message>]`,
///     `container <name> terminated: <reason> (exit <exitCode>)`; a missing
///     reason gives "waiting"/"terminated" alone.
///  2. for a Node: each status.conditions entry (matched by `type`) whose
///     `status` differs from `from`: `<type> <status>: <reason> <message>`.
///  3. the changed paths, non-bookkeeping ones first, at most 3, joined by
///     ", ": `path old→new` for a replaced scalar (strings unquoted),
///     `path →new` for an added scalar, `path added` for an added
///     non-scalar, `path removed`, `path changed` for other non-scalars;
///     each value cut to 40 characters plus "…"; then ", +N more" for the
///     rest of the changed paths.
/// Parts are cut (with "…", never inside a UTF-8 sequence) so the message
/// stays under 512 bytes. No changed paths and no parts: prefix +
/// ": no change".
/// `changed_paths` are those of `diff_json(from, to)` (sorted, unique).
std::string update_message(std::string_view prefix,
                           const std::vector<std::string>& changed_paths,
                           const rapidjson::Value& from,
                           const rapidjson::Value& to);

/// Only parts 1 and 2 (used for creates, whose message is prefix + ": " +
/// parts when there are any). `from` is null for a create: every state
/// then counts as changed.
std::vector<std::string> state_notes(const rapidjson::Value* from,
                                     const rapidjson::Value& to);

/// `s` cut to at most `max_bytes` bytes at a UTF-8 boundary, with "…"
/// appended (within the limit) when anything was cut.
std::string cut_utf8(std::string_view s, size_t max_bytes);

} // namespace kws::storage
