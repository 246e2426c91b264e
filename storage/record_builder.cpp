#include "storage/record_builder.hpp"

#include "storage/object_text.hpp"
#include "storage/secret_digest.hpp"
#include "util/errors.hpp"
#include "util/json_parse.hpp"
#include "util/time_format.hpp"

#include <caf/error.hpp>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <limits>
#include <optional>
#include <vector>

namespace kws::storage {

namespace {

using rapidjson::Value;

constexpr std::string_view last_applied
  = "kubectl.kubernetes.io/last-applied-configuration";

bool too_deep(const Value& root) {
  std::vector<std::pair<const Value*, size_t>> todo{{&root, 1}};
  while (!todo.empty()) {
    auto [v, depth] = todo.back();
    todo.pop_back();
    if (!v->IsObject() && !v->IsArray())
      continue;
    if (depth > max_object_depth)
      return true;
    if (v->IsObject())
      for (const auto& m : v->GetObject())
        todo.emplace_back(&m.value, depth + 1);
    else
      for (const auto& x : v->GetArray())
        todo.emplace_back(&x, depth + 1);
  }
  return false;
}

const Value* member(const Value& obj, const char* name) {
  if (!obj.IsObject())
    return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string string_member(const Value& obj, const char* name) {
  auto* v = member(obj, name);
  return v != nullptr && v->IsString()
    ? std::string{v->GetString(), v->GetStringLength()}
    : std::string{};
}

std::optional<int64_t> int_member(const Value& obj, const char* name) {
  auto* v = member(obj, name);
  if (v == nullptr || !v->IsInt64())
    return std::nullopt;
  return v->GetInt64();
}

/// Each object entry of `metadata.managedFields` (none when it is not an
/// array), as the watch line's pass reads them.
std::vector<manager_entry> manager_entries(const Value& metadata) {
  std::vector<manager_entry> result;
  auto* fields = member(metadata, "managedFields");
  if (fields == nullptr || !fields->IsArray())
    return result;
  for (const auto& entry : fields->GetArray())
    if (entry.IsObject())
      result.push_back(
        {string_member(entry, "manager"), string_member(entry, "time")});
  return result;
}

std::string newest_manager(const std::vector<manager_entry>& entries) {
  const manager_entry* best = nullptr;
  int64_t best_time = std::numeric_limits<int64_t>::min();
  for (const auto& entry : entries) {
    if (entry.manager.empty())
      continue;
    int64_t t = std::numeric_limits<int64_t>::min();
    if (!entry.time.empty())
      if (auto parsed = parse_rfc3339(entry.time))
        t = *parsed;
    // `>=`: entries with equal (second-granular) times are resolved in
    // favour of the later one in the list.
    if (best == nullptr || t >= best_time) {
      best = &entry;
      best_time = t;
    }
  }
  return best != nullptr ? best->manager : std::string{default_user};
}

void digest_values(Value& obj, rapidjson::Document::AllocatorType& alloc,
                   std::string_view key) {
  if (!obj.IsObject())
    return;
  for (auto& m : obj.GetObject()) {
    if (!m.value.IsString())
      continue;
    auto digest = secret_digest(
      key, std::string_view{m.value.GetString(), m.value.GetStringLength()});
    m.value.SetString(digest.data(),
                      static_cast<rapidjson::SizeType>(digest.size()), alloc);
  }
}

void digest_secret(Value& doc, rapidjson::Document::AllocatorType& alloc,
                   std::string_view key) {
  for (const char* field : {"data", "stringData"}) {
    auto it = doc.FindMember(field);
    if (it != doc.MemberEnd())
      digest_values(it->value, alloc, key);
  }
  // `kubectl apply` keeps the whole applied manifest, values included, in
  // this annotation; storing it verbatim would defeat the digests.
  auto meta = doc.FindMember("metadata");
  if (meta == doc.MemberEnd() || !meta->value.IsObject())
    return;
  auto ann = meta->value.FindMember("annotations");
  if (ann == meta->value.MemberEnd() || !ann->value.IsObject())
    return;
  auto applied = ann->value.FindMember(last_applied.data());
  if (applied != ann->value.MemberEnd() && applied->value.IsString()) {
    auto digest
      = secret_digest(key,
                      std::string_view{applied->value.GetString(),
                                       applied->value.GetStringLength()});
    applied->value.SetString(
      digest.data(), static_cast<rapidjson::SizeType>(digest.size()), alloc);
  }
}

std::string capitalized(verb v) {
  switch (v) {
    case verb::create: return "Create";
    case verb::update: return "Update";
    case verb::remove: return "Delete";
  }
  return "Unknown";
}

using writer_t = rapidjson::Writer<rapidjson::StringBuffer>;

void put(writer_t& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

/// The Event fields that the contract lifts to the top of the record.
struct event_fields {
  std::string message;
  bool has_message = false;
  std::string reason;
  std::string type;
  int64_t count = 1;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  std::string api_version;
};

event_fields read_event(const resource_type& rt, const Value& doc) {
  event_fields x;
  // events.k8s.io/v1 renamed message → note, involvedObject → regarding and
  // count → deprecatedCount / series.count.
  const bool modern = rt.group == "events.k8s.io";
  const char* message_key = modern ? "note" : "message";
  if (auto* m = member(doc, message_key); m != nullptr && m->IsString()) {
    x.message.assign(m->GetString(), m->GetStringLength());
    x.has_message = true;
  }
  x.reason = string_member(doc, "reason");
  x.type = string_member(doc, "type");
  std::optional<int64_t> count;
  if (!modern)
    count = int_member(doc, "count");
  if (!count || *count <= 0)
    if (auto* series = member(doc, "series"))
      count = int_member(*series, "count");
  if (!count || *count <= 0)
    count = int_member(doc, "deprecatedCount");
  if (count && *count > 0)
    x.count = *count;
  if (auto* target = member(doc, modern ? "regarding" : "involvedObject")) {
    x.kind = string_member(*target, "kind");
    x.ns = string_member(*target, "namespace");
    x.name = string_member(*target, "name");
    x.uid = string_member(*target, "uid");
    x.api_version = string_member(*target, "apiVersion");
  }
  return x;
}

/// `v` as compact JSON.
std::string compact(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  if (!v.Accept(w))
    return {};
  return {buf.GetString(), buf.GetSize()};
}

/// What a record takes from its object's top level and metadata, read by a
/// parse or by the watch line's pass.
struct object_head {
  std::string name;
  std::string ns;
  std::string uid;
  std::string resource_version;
  std::string creation_timestamp;
  std::string api_version;
  std::string kind;
  std::string user;
};

object_head head_of(const Value& doc, const Value& metadata) {
  return {string_member(metadata, "name"),
          string_member(metadata, "namespace"),
          string_member(metadata, "uid"),
          string_member(metadata, "resourceVersion"),
          string_member(metadata, "creationTimestamp"),
          string_member(doc, "apiVersion"),
          string_member(doc, "kind"),
          newest_manager(manager_entries(metadata))};
}

object_head head_of(const object_facts& facts) {
  return {facts.name,
          facts.ns,
          facts.uid,
          facts.resource_version,
          facts.creation_timestamp,
          facts.api_version,
          facts.kind,
          newest_manager(facts.managers)};
}

/// The event's own fields; an error when the object has no name.
caf::expected<resource_event> start_event(const resource_type& rt, verb v,
                                          object_head& head, int64_t now_ns,
                                          const record_options& opts) {
  resource_event ev;
  ev.action = v;
  ev.name = std::move(head.name);
  if (ev.name.empty())
    return caf::make_error(ec::parse_error, "object has no metadata.name");
  ev.ns = std::move(head.ns);
  ev.resource = rt.plural;
  ev.group = rt.group;
  ev.uid = std::move(head.uid);
  ev.resource_version = std::move(head.resource_version);
  ev.user = std::move(head.user);
  ev.final_state_unknown = opts.final_state_unknown;
  ev.timestamp_ns = now_ns;
  if (opts.from_initial_list && v == verb::create)
    if (auto parsed = parse_rfc3339(head.creation_timestamp))
      ev.timestamp_ns = *parsed;
  if (head.api_version.empty())
    head.api_version = rt.api_version();
  if (head.kind.empty())
    head.kind = rt.kind;
  return ev;
}

/// Writes the record's members up to the key of `objectChanges`.
void write_head(writer_t& w, const rapidjson::StringBuffer& buf,
                resource_event& ev, const resource_type& rt,
                const object_head& head, const event_fields* evf,
                const record_options& opts) {
  auto message = evf != nullptr && evf->has_message
    ? evf->message
    : capitalized(ev.action) + " " + rt.plural + " " + ev.name;
  w.StartObject();
  put(w, "timestamp", format_rfc3339(ev.timestamp_ns));
  put(w, "verb", to_string(ev.action));
  put(w, "user", ev.user);
  put(w, "namespace", ev.ns);
  put(w, "resourceType", rt.plural);
  put(w, "resourceName", ev.name);
  w.Key("responseStatus");
  w.Int(ev.action == verb::create ? 201 : 200);
  ev.message_begin = static_cast<uint32_t>(buf.GetSize());
  put(w, "message", message);
  ev.message_end = static_cast<uint32_t>(buf.GetSize());
  put(w, "stage", "ResponseComplete");
  put(w, "requestURI", rt.object_path(ev.ns, ev.name));
  put(w, "uid", ev.uid);
  put(w, "apiVersion", head.api_version);
  put(w, "kind", head.kind);
  put(w, "resourceVersion", ev.resource_version);
  if (opts.final_state_unknown) {
    w.Key("finalStateUnknown");
    w.Bool(true);
  }
  if (evf != nullptr) {
    put(w, "reason", evf->reason);
    put(w, "type", evf->type);
    w.Key("count");
    w.Int64(evf->count);
    w.Key("involvedObject");
    w.StartObject();
    put(w, "kind", evf->kind);
    put(w, "namespace", evf->ns);
    put(w, "name", evf->name);
    put(w, "uid", evf->uid);
    put(w, "apiVersion", evf->api_version);
    w.EndObject();
  }
  // Last, so the small fields lead when a person reads a record.
  w.Key("objectChanges");
  // The writer puts the colon before the value.
  ev.object_begin = static_cast<uint32_t>(buf.GetSize() + 1);
}

/// Completes the record with the object's own bytes minus `cut`.
void append_copied(resource_event& ev, const rapidjson::StringBuffer& buf,
                   std::string_view text, std::pair<size_t, size_t> cut) {
  // The writer has written the key (its colon comes with the next value);
  // the text follows verbatim, then the record's closing brace.
  ev.record.reserve(buf.GetSize() + text.size() + 2);
  ev.record.assign(buf.GetString(), buf.GetSize());
  ev.record.push_back(':');
  ev.record.append(text.substr(0, cut.first));
  ev.record.append(text.substr(cut.second));
  ev.record.push_back('}');
}

bool is_secret(const resource_type& rt, const record_options& opts) {
  return opts.digest_secrets && rt.group.empty() && rt.plural == "secrets";
}

/// `managed_fields_span` from the offsets the watch line's pass noted, for
/// compact text (no space around the member); `{0, 0}` otherwise.
std::pair<size_t, size_t> compact_managed_fields_span(std::string_view text,
                                                      const object_facts& f) {
  constexpr std::string_view key = "\"managedFields\"";
  const auto key_end = f.managed_fields_key_end;
  const auto end = f.managed_fields_end;
  if (key_end < key.size() + 1 || end <= key_end || end >= text.size()
      || text.substr(key_end - key.size(), key.size()) != key
      || text[key_end] != ':' || text[end - 1] != ']')
    return {0, 0};
  const auto begin = key_end - key.size();
  if (text[end] == ',')
    return {begin, end + 1};
  if (text[begin - 1] == ',')
    return {begin - 1, end};
  if (text[begin - 1] == '{' && text[end] == '}')
    return {begin, end};
  return {0, 0};
}

/// The record from the watch line's facts and the object's bytes, without
/// a parse; nullopt when only a parse can build it (a Secret to digest, an
/// Event's fields, text that cannot be copied, no name to report).
std::optional<resource_event> record_from_facts(const resource_type& rt, verb v,
                                                std::string_view text,
                                                const object_facts& facts,
                                                int64_t now_ns,
                                                const record_options& opts) {
  if (!facts.complete || !opts.copy_object_text || is_secret(rt, opts)
      || is_event_type(rt) || facts.name.empty())
    return std::nullopt;
  std::pair<size_t, size_t> cut{0, 0};
  if (facts.has_managed_fields) {
    cut = compact_managed_fields_span(text, facts);
    if (cut.second <= cut.first)
      cut = managed_fields_span(text);
    if (cut.second <= cut.first)
      return std::nullopt;
  }
  auto head = head_of(facts);
  auto ev = start_event(rt, v, head, now_ns, opts);
  if (!ev)
    return std::nullopt;
  if (facts.has_managed_fields)
    ev->managed_fields
      = managed_fields_value(text.substr(cut.first, cut.second - cut.first));
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  write_head(w, buf, *ev, rt, head, nullptr, opts);
  append_copied(*ev, buf, text, cut);
  return std::move(*ev);
}

} // namespace

bool is_event_type(const resource_type& rt) {
  return rt.plural == "events"
    && (rt.group.empty() || rt.group == "events.k8s.io");
}

caf::expected<resource_event> build_record(const resource_type& rt, verb v,
                                           std::string_view object_json,
                                           int64_t now_ns,
                                           const record_options& opts) {
  if (opts.facts != nullptr)
    if (auto ev
        = record_from_facts(rt, v, object_json, *opts.facts, now_ns, opts))
      return std::move(*ev);
  if (nests_too_deep(object_json))
    return caf::make_error(ec::parse_error,
                           "object JSON nests deeper than 512 levels");
  rapidjson::Document doc;
  if (auto parsed = json::parse(doc, object_json); parsed.IsError())
    return caf::make_error(ec::parse_error,
                           std::string{"object JSON: "}
                             + rapidjson::GetParseError_En(parsed.Code())
                             + " at offset " + std::to_string(parsed.Offset()));
  return build_record(rt, v, doc, doc.GetAllocator(),
                      opts.copy_object_text ? object_json : std::string_view{},
                      now_ns, opts);
}

caf::expected<resource_event>
build_record(const resource_type& rt, verb v, rapidjson::Value& doc,
             rapidjson::Document::AllocatorType& alloc,
             std::string_view object_text, int64_t now_ns,
             const record_options& opts) {
  if (!doc.IsObject())
    return caf::make_error(ec::parse_error, "object JSON is not an object");
  auto meta_it = doc.FindMember("metadata");
  if (meta_it == doc.MemberEnd() || !meta_it->value.IsObject())
    return caf::make_error(ec::parse_error, "object has no metadata");
  auto& metadata = meta_it->value;
  auto head = head_of(doc, metadata);
  auto started = start_event(rt, v, head, now_ns, opts);
  if (!started)
    return std::move(started.error());
  auto& ev = *started;
  const bool event_object = is_event_type(rt);
  event_fields evf;
  if (event_object) {
    evf = read_event(rt, doc);
    ev.involved_uid = evf.uid;
    ev.involved_kind = evf.kind;
    ev.involved_api_version = evf.api_version;
    ev.involved_ns = evf.ns;
    ev.involved_name = evf.name;
    ev.warning = evf.type == "Warning";
  }
  const bool has_managed_fields = metadata.HasMember("managedFields");
  const bool secret = is_secret(rt, opts);
  // Copying the object's own bytes is only possible when nothing in it
  // changes but managedFields, and that can be cut out of the text.
  std::pair<size_t, size_t> cut{0, 0};
  bool copy = !object_text.empty() && !secret;
  if (copy && has_managed_fields) {
    cut = managed_fields_span(object_text);
    copy = cut.second > cut.first;
  }
  // managedFields is kept beside the record for STORAGE, which tells from
  // it who changed each field; the stored snapshot leaves it out.
  if (copy && has_managed_fields)
    ev.managed_fields = managed_fields_value(
      object_text.substr(cut.first, cut.second - cut.first));
  else if (has_managed_fields)
    ev.managed_fields = compact(metadata["managedFields"]);
  if (!copy) {
    if (has_managed_fields)
      metadata.EraseMember("managedFields");
    if (secret)
      digest_secret(doc, alloc, opts.digest_key);
    if (too_deep(doc))
      return caf::make_error(ec::parse_error,
                             "object JSON nests deeper than 512 levels");
  }
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  write_head(w, buf, ev, rt, head, event_object ? &evf : nullptr, opts);
  if (copy) {
    append_copied(ev, buf, object_text, cut);
    return ev;
  }
  if (!doc.Accept(w))
    return caf::make_error(ec::parse_error, "object JSON cannot be written");
  w.EndObject();
  ev.record.assign(buf.GetString(), buf.GetSize());
  return ev;
}

} // namespace kws::storage
