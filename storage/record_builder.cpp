#include "storage/record_builder.hpp"

#include "messages/errors.hpp"
#include "messages/json_parse.hpp"
#include "messages/time_format.hpp"
#include "storage/secret_digest.hpp"

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

// Deeper documents are refused before parsing: RapidJSON's writer recurses
// once per level, and no Kubernetes object (CRD schemas included) comes
// close to this depth.
constexpr size_t max_depth = 512;

constexpr std::string_view last_applied
  = "kubectl.kubernetes.io/last-applied-configuration";

bool too_deep(std::string_view json) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

bool too_deep(const Value& root) {
  std::vector<std::pair<const Value*, size_t>> todo{{&root, 1}};
  while (!todo.empty()) {
    auto [v, depth] = todo.back();
    todo.pop_back();
    if (!v->IsObject() && !v->IsArray())
      continue;
    if (depth > max_depth)
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

size_t skip_ws(std::string_view x, size_t i) {
  while (i < x.size()
         && (x[i] == ' ' || x[i] == '\n' || x[i] == '\r' || x[i] == '\t'))
    ++i;
  return i;
}

/// Returns the index after the string starting at `x[i] == '"'`, or npos.
size_t skip_string(std::string_view x, size_t i) {
  for (++i; i < x.size(); ++i) {
    if (x[i] == '\\')
      ++i;
    else if (x[i] == '"')
      return i + 1;
  }
  return std::string_view::npos;
}

/// Returns the index after the JSON value starting at `x[i]`, or npos.
size_t skip_value(std::string_view x, size_t i) {
  if (i >= x.size())
    return std::string_view::npos;
  if (x[i] == '"')
    return skip_string(x, i);
  if (x[i] != '{' && x[i] != '[') {
    while (i < x.size() && x[i] != ',' && x[i] != '}' && x[i] != ']'
           && x[i] != ' ' && x[i] != '\n' && x[i] != '\r' && x[i] != '\t')
      ++i;
    return i;
  }
  size_t depth = 0;
  while (i < x.size()) {
    auto c = x[i];
    if (c == '"') {
      i = skip_string(x, i);
      if (i == std::string_view::npos)
        return i;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        return i + 1;
    }
    ++i;
  }
  return std::string_view::npos;
}

/// Calls `f(key, value_begin, value_end, key_begin)` for each member of the
/// object starting at `x[i] == '{'` until `f` returns true. Returns false
/// when the text is not shaped as expected.
template <class F>
bool for_each_member(std::string_view x, size_t i, F f) {
  constexpr auto npos = std::string_view::npos;
  if (i >= x.size() || x[i] != '{')
    return false;
  i = skip_ws(x, i + 1);
  if (i < x.size() && x[i] == '}')
    return true;
  while (i < x.size() && x[i] == '"') {
    auto key_begin = i;
    auto key_end = skip_string(x, i);
    if (key_end == npos)
      return false;
    auto key = x.substr(key_begin + 1, key_end - key_begin - 2);
    i = skip_ws(x, key_end);
    if (i >= x.size() || x[i] != ':')
      return false;
    auto value_begin = skip_ws(x, i + 1);
    auto value_end = skip_value(x, value_begin);
    if (value_end == npos)
      return false;
    if (f(key, value_begin, value_end, key_begin))
      return true;
    i = skip_ws(x, value_end);
    if (i < x.size() && x[i] == '}')
      return true;
    if (i >= x.size() || x[i] != ',')
      return false;
    i = skip_ws(x, i + 1);
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

std::string newest_manager(const Value& metadata) {
  auto* fields = member(metadata, "managedFields");
  if (fields == nullptr || !fields->IsArray())
    return std::string{default_user};
  std::string best;
  int64_t best_time = std::numeric_limits<int64_t>::min();
  bool found = false;
  for (const auto& entry : fields->GetArray()) {
    auto manager = string_member(entry, "manager");
    if (manager.empty())
      continue;
    int64_t t = std::numeric_limits<int64_t>::min();
    if (auto text = string_member(entry, "time"); !text.empty())
      if (auto parsed = parse_rfc3339(text))
        t = *parsed;
    // `>=`: entries with equal (second-granular) times are resolved in
    // favour of the later one in the list.
    if (!found || t >= best_time) {
      best = std::move(manager);
      best_time = t;
      found = true;
    }
  }
  return found ? best : std::string{default_user};
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

/// The value of the `"managedFields":<value>` member text `span` (which
/// may carry one comma before or after it).
std::string managed_fields_value(std::string_view span) {
  auto key = span.find("\"managedFields\"");
  if (key == std::string_view::npos)
    return {};
  auto colon = span.find(':', key);
  if (colon == std::string_view::npos)
    return {};
  auto value = span.substr(colon + 1);
  auto is_space
    = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!value.empty() && (is_space(value.back()) || value.back() == ','))
    value.remove_suffix(1);
  while (!value.empty() && is_space(value.front()))
    value.remove_prefix(1);
  return std::string{value};
}

/// `v` as compact JSON.
std::string compact(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  if (!v.Accept(w))
    return {};
  return {buf.GetString(), buf.GetSize()};
}

} // namespace

std::pair<size_t, size_t> managed_fields_span(std::string_view json) {
  std::pair<size_t, size_t> result{0, 0};
  for_each_member(
    json, skip_ws(json, 0),
    [&](std::string_view key, size_t begin, size_t, size_t) {
      if (key != "metadata")
        return false;
      // The previous member's end, to cut a preceding comma.
      size_t prev_end = std::string_view::npos;
      for_each_member(
        json, begin,
        [&](std::string_view k, size_t, size_t end, size_t key_begin) {
          if (k != "managedFields") {
            prev_end = end;
            return false;
          }
          auto next = skip_ws(json, end);
          if (next < json.size() && json[next] == ',')
            result = {key_begin, skip_ws(json, next + 1)};
          else if (prev_end != std::string_view::npos)
            result = {prev_end, end};
          else
            result = {key_begin, end};
          return true;
        });
      return true;
    });
  return result;
}

bool is_event_type(const resource_type& rt) {
  return rt.plural == "events"
    && (rt.group.empty() || rt.group == "events.k8s.io");
}

caf::expected<resource_event> build_record(const resource_type& rt, verb v,
                                           std::string_view object_json,
                                           int64_t now_ns,
                                           const record_options& opts) {
  if (too_deep(object_json))
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
  resource_event ev;
  ev.action = v;
  ev.name = string_member(metadata, "name");
  if (ev.name.empty())
    return caf::make_error(ec::parse_error, "object has no metadata.name");
  ev.ns = string_member(metadata, "namespace");
  ev.resource = rt.plural;
  ev.group = rt.group;
  ev.uid = string_member(metadata, "uid");
  ev.resource_version = string_member(metadata, "resourceVersion");
  ev.user = newest_manager(metadata);
  ev.final_state_unknown = opts.final_state_unknown;
  ev.timestamp_ns = now_ns;
  if (opts.from_initial_list && v == verb::create) {
    auto created = string_member(metadata, "creationTimestamp");
    if (auto parsed = parse_rfc3339(created))
      ev.timestamp_ns = *parsed;
  }
  auto api_version = string_member(doc, "apiVersion");
  if (api_version.empty())
    api_version = rt.api_version();
  auto kind = string_member(doc, "kind");
  if (kind.empty())
    kind = rt.kind;
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
  const bool secret
    = opts.digest_secrets && rt.group.empty() && rt.plural == "secrets";
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
  auto message = evf.has_message
    ? evf.message
    : capitalized(v) + " " + rt.plural + " " + ev.name;
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  put(w, "timestamp", format_rfc3339(ev.timestamp_ns));
  put(w, "verb", to_string(v));
  put(w, "user", ev.user);
  put(w, "namespace", ev.ns);
  put(w, "resourceType", rt.plural);
  put(w, "resourceName", ev.name);
  w.Key("responseStatus");
  w.Int(v == verb::create ? 201 : 200);
  ev.message_begin = static_cast<uint32_t>(buf.GetSize());
  put(w, "message", message);
  ev.message_end = static_cast<uint32_t>(buf.GetSize());
  put(w, "stage", "ResponseComplete");
  put(w, "requestURI", rt.object_path(ev.ns, ev.name));
  put(w, "uid", ev.uid);
  put(w, "apiVersion", api_version);
  put(w, "kind", kind);
  put(w, "resourceVersion", ev.resource_version);
  if (opts.final_state_unknown) {
    w.Key("finalStateUnknown");
    w.Bool(true);
  }
  if (event_object) {
    put(w, "reason", evf.reason);
    put(w, "type", evf.type);
    w.Key("count");
    w.Int64(evf.count);
    w.Key("involvedObject");
    w.StartObject();
    put(w, "kind", evf.kind);
    put(w, "namespace", evf.ns);
    put(w, "name", evf.name);
    put(w, "uid", evf.uid);
    put(w, "apiVersion", evf.api_version);
    w.EndObject();
  }
  // Last, so the small fields lead when a person reads a record.
  w.Key("objectChanges");
  // The writer puts the colon before the value.
  ev.object_begin = static_cast<uint32_t>(buf.GetSize() + 1);
  if (copy) {
    // The writer has written the key (its colon comes with the next value);
    // the text follows verbatim, then the record's closing brace.
    ev.record.reserve(buf.GetSize() + object_text.size() + 2);
    ev.record.assign(buf.GetString(), buf.GetSize());
    ev.record.push_back(':');
    ev.record.append(object_text.substr(0, cut.first));
    ev.record.append(object_text.substr(cut.second));
    ev.record.push_back('}');
    return ev;
  }
  if (!doc.Accept(w))
    return caf::make_error(ec::parse_error, "object JSON cannot be written");
  w.EndObject();
  ev.record.assign(buf.GetString(), buf.GetSize());
  return ev;
}

} // namespace kws::storage
