#include "storage/change_enricher.hpp"

#include "storage/change_message.hpp"
#include "storage/field_managers.hpp"
#include "storage/json_diff.hpp"
#include "util/json_text.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <optional>
#include <set>

namespace kws::storage {

namespace {

constexpr std::string_view object_key = ",\"objectChanges\":";

bool is_event_object(const resource_event& ev) {
  return ev.resource == "events"
    && (ev.group.empty() || ev.group == "events.k8s.io");
}

std::string prefix_of(const resource_event& ev) {
  switch (ev.action) {
    case verb::create: return "Create " + ev.resource + " " + ev.name;
    case verb::update: return "Update " + ev.resource + " " + ev.name;
    case verb::remove: return "Delete " + ev.resource + " " + ev.name;
  }
  return {};
}

/// Where `,"objectChanges":` starts in `record`; npos when absent.
size_t object_key_pos(const resource_event& ev, const std::string& record) {
  if (ev.object_begin >= object_key.size()
      && ev.object_begin <= record.size()) {
    auto pos = ev.object_begin - object_key.size();
    if (std::string_view{record}.substr(pos, object_key.size()) == object_key)
      return pos;
  }
  return record.find(object_key);
}

/// Replaces the message and inserts `fields` (each starting with a comma)
/// before `objectChanges`.
void rewrite(const resource_event& ev, std::string& record,
             const std::optional<std::string>& message,
             const std::string& fields) {
  auto key = object_key_pos(ev, record);
  if (key == std::string::npos)
    return;
  std::string out;
  out.reserve(record.size() + fields.size() + 256);
  constexpr std::string_view message_key = ",\"message\":\"";
  const bool has_span = message && ev.message_end > ev.message_begin
    && ev.message_end <= key
    && std::string_view{record}.substr(ev.message_begin, message_key.size())
      == message_key;
  if (has_span) {
    out.append(record, 0, ev.message_begin);
    out += ",\"message\":" + quote_json(*message);
    out.append(record, ev.message_end, key - ev.message_end);
  } else {
    out.append(record, 0, key);
  }
  out += fields;
  out.append(record, key, std::string::npos);
  record = std::move(out);
}

std::string class_field(change_class cls) {
  return ",\"changeClass\":\"" + std::string{to_string(cls)} + "\"";
}

template <class Strings>
void append_string_array(std::string& out, const Strings& xs, size_t limit) {
  out += '[';
  size_t n = 0;
  for (const auto& x : xs) {
    if (n == limit)
      break;
    if (n++ > 0)
      out += ',';
    append_quoted_json(out, x);
  }
  out += ']';
}

} // namespace

std::string_view record_object(std::string_view record) {
  auto pos = record.find(object_key);
  if (pos == std::string_view::npos || record.empty() || record.back() != '}')
    return {};
  auto begin = pos + object_key.size();
  return record.substr(begin, record.size() - 1 - begin);
}

change_facts enrich_record(const resource_event& ev, std::string& record,
                           const previous_version* prev) {
  change_facts facts;
  if (is_event_object(ev)) {
    facts.cls = change_class::event;
    rewrite(ev, record, std::nullopt, class_field(facts.cls));
    return facts;
  }
  auto key = object_key_pos(ev, record);
  if (key == std::string::npos)
    return facts;
  // Parsed in place from copies: a snapshot is mostly strings, and in
  // place they are not copied once more into the document. Only where it
  // is read: most creates and deletes need no more than their class.
  rapidjson::Document to;
  std::string to_text;
  auto parse_to = [&] {
    auto view = std::string_view{record}.substr(key + object_key.size());
    view.remove_suffix(1);
    to_text.assign(view);
    return !to.ParseInsitu(to_text.data()).HasParseError();
  };
  if (ev.action != verb::update) {
    facts.cls = change_class::spec;
    std::optional<std::string> message;
    // A Pod may be created already failing; a new Node's conditions are
    // its first state, not a change.
    if (ev.action == verb::create && ev.resource == "pods" && parse_to()) {
      auto notes = state_notes(nullptr, to);
      if (!notes.empty()) {
        std::string text = prefix_of(ev) + ": ";
        for (size_t i = 0; i < notes.size(); ++i)
          text += (i > 0 ? "; " : "") + notes[i];
        message = std::move(text);
      }
    }
    rewrite(ev, record, message, class_field(facts.cls));
    return facts;
  }
  if (prev == nullptr || !parse_to())
    return facts;
  rapidjson::Document from;
  std::string from_text{prev->object};
  if (from.ParseInsitu(from_text.data()).HasParseError())
    return facts;
  const auto paths = changed_paths(from, to);
  facts.cls = classify_update(paths);
  std::string fields = class_field(facts.cls);
  fields.reserve(256 + 64 * std::min(paths.size(), max_changed_paths));
  fields += ",\"changedPaths\":";
  append_string_array(fields, paths, max_changed_paths);
  if (paths.size() > max_changed_paths)
    fields += ",\"changedPathsTruncated\":true";
  // Who changed it: the owners of the changed paths in this version's
  // managedFields. Not the entries that changed: an entry's time has whole
  // seconds, so a manager writing twice within one leaves it as it was, and
  // the entry of a manager that lost a field to another changes too.
  std::set<std::string> who;
  std::string owners_json = "{";
  owners_json.reserve(64 * std::min(paths.size(), max_changed_paths));
  if (!ev.managed_fields.empty() && !paths.empty()) {
    field_owners owners{ev.managed_fields, to};
    size_t n = 0;
    for (const auto& path : paths) {
      if (n >= max_changed_paths)
        break;
      if (is_bookkeeping(path))
        continue;
      auto owner = owners.owner_of(path);
      if (owner.empty())
        continue;
      if (n++ > 0)
        owners_json += ',';
      append_quoted_json(owners_json, path);
      owners_json += ':';
      append_quoted_json(owners_json, owner);
      who.insert(std::move(owner));
    }
  }
  fields += ",\"managers\":";
  append_string_array(fields, who, SIZE_MAX);
  fields += ",\"fieldManagers\":";
  fields += owners_json;
  fields += '}';
  rewrite(ev, record, update_message(prefix_of(ev), paths, from, to), fields);
  return facts;
}

} // namespace kws::storage
