#include "kube/wire.hpp"

#include "kube/object_facts_reader.hpp"
#include "util/json_fields.hpp"
#include "util/json_parse.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>

namespace kws::kube {

namespace {

/// Shortens peer data quoted in error messages.
std::string excerpt(std::string_view x, size_t max = 200) {
  if (x.size() <= max)
    return std::string{x};
  return std::string{x.substr(0, max)} + "...";
}

std::string parse_error_text(const rapidjson::ParseResult& result) {
  return fmt::format("{} at offset {}",
                     rapidjson::GetParseError_En(result.Code()),
                     result.Offset());
}

using json::string_member;

/// SAX handler that captures `metadata.{namespace,name,uid,resourceVersion}`
/// and stops the parse once the metadata object closes.
struct meta_handler
    : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, meta_handler> {
  object_meta* out = nullptr;
  int depth = 0;
  bool in_meta = false;
  bool in_annotations = false;
  bool pending_meta = false;
  bool pending_annotations = false;
  bool want_initial_end = false;
  bool done = false;
  std::string* target = nullptr;

  /// Fields captured so far (bits of `capture`).
  unsigned captured = 0;

  /// The first occurrence of a repeated key wins, as for the DOM lookups
  /// (`FindMember`) that read the same objects elsewhere, so every reader
  /// agrees on an object's resourceVersion.
  void capture(std::string& field, unsigned bit) {
    if ((captured & bit) == 0) {
      captured |= bit;
      target = &field;
    }
  }

  void clear_pending() {
    target = nullptr;
    pending_meta = false;
    pending_annotations = false;
    want_initial_end = false;
  }

  bool Default() {
    clear_pending();
    return true;
  }

  bool String(const char* str, rapidjson::SizeType len, bool) {
    if (target != nullptr)
      target->assign(str, len);
    else if (want_initial_end)
      out->initial_events_end = std::string_view{str, len} == "true";
    clear_pending();
    return true;
  }

  bool Key(const char* str, rapidjson::SizeType len, bool) {
    clear_pending();
    std::string_view key{str, len};
    if (depth == 1 && key == "metadata") {
      pending_meta = true;
    } else if (in_meta && depth == 2) {
      if (key == "namespace")
        capture(out->namespace_, 1u);
      else if (key == "name")
        capture(out->name, 2u);
      else if (key == "uid")
        capture(out->uid, 4u);
      else if (key == "resourceVersion")
        capture(out->resource_version, 8u);
      else if (key == "annotations")
        pending_annotations = true;
    } else if (in_annotations && depth == 3
               && key == "k8s.io/initial-events-end") {
      want_initial_end = true;
    }
    return true;
  }

  bool StartObject() {
    ++depth;
    if (pending_meta && depth == 2)
      in_meta = true;
    else if (pending_annotations && depth == 3)
      in_annotations = true;
    clear_pending();
    return true;
  }

  bool EndObject(rapidjson::SizeType) {
    if (in_annotations && depth == 3) {
      in_annotations = false;
    } else if (in_meta && depth == 2) {
      in_meta = false;
      done = true;
      return false; // everything needed is read: stop early
    }
    --depth;
    clear_pending();
    return true;
  }

  bool StartArray() {
    ++depth;
    clear_pending();
    return true;
  }

  bool EndArray(rapidjson::SizeType) {
    --depth;
    clear_pending();
    return true;
  }
};

/// How deep `scan_watch_line` follows a line: the object's own limit
/// (object_facts_reader) and the event's envelope around it.
constexpr int max_scan_depth = 520;

/// SAX handler for `scan_watch_line`: the line's `type`, the number of
/// its members, whether `object` is an object, and the object's
/// `metadata.resourceVersion` and initial-events-end annotation.
struct line_handler
    : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, line_handler> {
  enum class want { none, type, object, metadata, rv, annotations, end_mark };
  int depth = 0;
  size_t top_members = 0;
  want pending = want::none;
  int object_depth = 0; // depth of `object`'s members, 0 when outside
  bool in_meta = false;
  bool in_annotations = false;
  bool seen_type = false;
  bool seen_object = false;
  bool object_is_object = false;
  bool seen_rv = false;
  bool seen_end_mark = false;
  std::string type;
  std::string rv;
  bool initial_events_end = false;
  /// Fed the events of `object`, so the record builder need not parse it.
  object_facts_reader facts;
  bool in_object = false;
  /// The parser's input, whose position places managedFields in the line.
  const rapidjson::MemoryStream* stream = nullptr;

  bool Default() {
    if (in_object)
      facts.scalar();
    pending = want::none;
    return true;
  }

  bool String(const char* str, rapidjson::SizeType len, bool) {
    std::string_view x{str, len};
    if (in_object)
      facts.string(x);
    switch (pending) {
      case want::type: type.assign(x); break;
      case want::rv: rv.assign(x); break;
      case want::end_mark: initial_events_end = x == "true"; break;
      default: break;
    }
    pending = want::none;
    return true;
  }

  bool Key(const char* str, rapidjson::SizeType len, bool) {
    std::string_view key{str, len};
    if (in_object)
      facts.key(key, stream->Tell());
    pending = want::none;
    if (depth == 1) {
      ++top_members;
      if (key == "type" && !seen_type) {
        seen_type = true;
        pending = want::type;
      } else if (key == "object" && !seen_object) {
        seen_object = true;
        pending = want::object;
      }
    } else if (object_depth != 0 && depth == object_depth && !in_meta
               && key == "metadata") {
      pending = want::metadata;
    } else if (in_meta && depth == object_depth + 1 && !in_annotations) {
      if (key == "resourceVersion" && !seen_rv) {
        seen_rv = true;
        pending = want::rv;
      } else if (key == "annotations") {
        pending = want::annotations;
      }
    } else if (in_annotations && depth == object_depth + 2
               && key == "k8s.io/initial-events-end" && !seen_end_mark) {
      seen_end_mark = true;
      pending = want::end_mark;
    }
    return true;
  }

  bool StartObject() {
    if (++depth > max_scan_depth)
      return false;
    if (pending == want::object)
      in_object = true;
    if (in_object)
      facts.start_object();
    if (pending == want::object) {
      object_is_object = true;
      object_depth = depth;
    } else if (pending == want::metadata) {
      in_meta = true;
    } else if (pending == want::annotations) {
      in_annotations = true;
    }
    pending = want::none;
    return true;
  }

  bool EndObject(rapidjson::SizeType) {
    if (in_object) {
      facts.end_object();
      in_object = !facts.done();
    }
    if (in_annotations && depth == object_depth + 2)
      in_annotations = false;
    else if (in_meta && depth == object_depth + 1)
      in_meta = false;
    else if (object_depth != 0 && depth == object_depth)
      object_depth = 0;
    --depth;
    pending = want::none;
    return true;
  }

  bool StartArray() {
    if (in_object)
      facts.start_array();
    if (++depth > max_scan_depth)
      return false;
    pending = want::none;
    return true;
  }

  bool EndArray(rapidjson::SizeType) {
    // The parser calls this once it has taken the `]`.
    if (in_object)
      facts.end_array(stream->Tell());
    --depth;
    pending = want::none;
    return true;
  }
};

/// Writes `item` as a complete object: adds `apiVersion`/`kind` when
/// missing or empty, keeps every other member in its order.
void write_item(const rapidjson::Value& item, std::string_view api_version,
                std::string_view kind,
                rapidjson::Writer<rapidjson::StringBuffer>& w) {
  auto has_api_version = !string_member(item, "apiVersion").empty();
  auto has_kind = !string_member(item, "kind").empty();
  if ((has_api_version && has_kind) || !item.IsObject()) {
    item.Accept(w);
    return;
  }
  w.StartObject();
  if (!has_api_version) {
    w.Key("apiVersion");
    w.String(api_version.data(),
             static_cast<rapidjson::SizeType>(api_version.size()));
  }
  if (!has_kind) {
    w.Key("kind");
    w.String(kind.data(), static_cast<rapidjson::SizeType>(kind.size()));
  }
  for (const auto& m : item.GetObject()) {
    std::string_view name{m.name.GetString(), m.name.GetStringLength()};
    if ((!has_api_version && name == "apiVersion")
        || (!has_kind && name == "kind"))
      continue;
    m.name.Accept(w);
    m.value.Accept(w);
  }
  w.EndObject();
}

} // namespace

caf::expected<object_meta> parse_object_meta(std::string_view json) {
  object_meta result;
  meta_handler handler;
  handler.out = &result;
  rapidjson::MemoryStream stream{json.data(), json.size()};
  rapidjson::Reader reader;
  auto ok = reader.Parse(stream, handler);
  if (handler.done)
    return result;
  if (ok.IsError())
    return caf::make_error(
      ec::parse_error,
      fmt::format("cannot parse object metadata: {} at offset {}",
                  rapidjson::GetParseError_En(ok.Code()), ok.Offset()));
  // A valid object without metadata (or an empty one).
  return result;
}

bool api_status::is_expired() const {
  return code == 410 && (reason == "Expired" || reason == "Gone");
}

bool api_status::is_too_large_resource_version() const {
  return code == 504
    && std::find(cause_reasons.begin(), cause_reasons.end(),
                 "ResourceVersionTooLarge")
    != cause_reasons.end();
}

api_status parse_status(std::string_view body, int http_status) {
  api_status result;
  result.code = http_status;
  rapidjson::Document doc;
  auto parsed = json::parse(doc, body);
  if (parsed.IsError() || !doc.IsObject()
      || string_member(doc, "kind") != "Status") {
    result.message = excerpt(body);
    return result;
  }
  if (auto i = doc.FindMember("code"); i != doc.MemberEnd() && i->value.IsInt())
    result.code = i->value.GetInt();
  result.reason = string_member(doc, "reason");
  result.message = string_member(doc, "message");
  if (auto d = doc.FindMember("details");
      d != doc.MemberEnd() && d->value.IsObject()) {
    if (auto r = d->value.FindMember("retryAfterSeconds");
        r != d->value.MemberEnd() && r->value.IsInt())
      result.retry_after_seconds = r->value.GetInt();
    if (auto c = d->value.FindMember("causes");
        c != d->value.MemberEnd() && c->value.IsArray())
      for (const auto& cause : c->value.GetArray())
        if (auto reason = string_member(cause, "reason"); !reason.empty())
          result.cause_reasons.emplace_back(reason);
  }
  return result;
}

caf::expected<list_page> parse_list_page(std::string_view body,
                                         std::string_view item_kind) {
  rapidjson::Document doc;
  if (auto parsed = json::parse(doc, body); parsed.IsError())
    return caf::make_error(
      ec::parse_error,
      fmt::format("cannot parse list response: {}", parse_error_text(parsed)));
  if (!doc.IsObject())
    return caf::make_error(ec::parse_error,
                           "list response is not a JSON object");
  auto list_kind = string_member(doc, "kind");
  if (list_kind == "Status")
    return caf::make_error(ec::unexpected_status,
                           fmt::format("list answered with a Status: {}",
                                       parse_status(body).message));
  list_page result;
  auto api_version = string_member(doc, "apiVersion");
  std::string kind{item_kind};
  if (kind.empty() && list_kind.size() > 4
      && list_kind.substr(list_kind.size() - 4) == "List")
    kind = list_kind.substr(0, list_kind.size() - 4);
  if (auto m = doc.FindMember("metadata");
      m != doc.MemberEnd() && m->value.IsObject()) {
    result.resource_version = string_member(m->value, "resourceVersion");
    result.continue_token = string_member(m->value, "continue");
  }
  auto items = doc.FindMember("items");
  if (items == doc.MemberEnd() || items->value.IsNull())
    return result; // Go encodes an empty slice of some lists as null
  if (!items->value.IsArray())
    return caf::make_error(ec::parse_error,
                           "list response has a non-array 'items'");
  result.items.reserve(items->value.Size());
  rapidjson::StringBuffer buf;
  for (const auto& item : items->value.GetArray()) {
    if (!item.IsObject())
      return caf::make_error(ec::parse_error,
                             "list response has a non-object item");
    buf.Clear();
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    write_item(item, api_version, kind, w);
    result.items.emplace_back(buf.GetString(), buf.GetSize());
  }
  return result;
}

caf::expected<parsed_watch_line> parse_watch_line(std::string_view line,
                                                  rapidjson::Document& doc) {
  auto parsed = json::parse(doc, line);
  if (parsed.IsError())
    return caf::make_error(ec::parse_error,
                           fmt::format("cannot parse watch line: {}: {}",
                                       parse_error_text(parsed),
                                       excerpt(line)));
  if (!doc.IsObject())
    return caf::make_error(
      ec::parse_error,
      fmt::format("watch line is not a JSON object: {}", excerpt(line)));
  auto type = string_member(doc, "type");
  auto obj = doc.FindMember("object");
  if (obj == doc.MemberEnd() || !obj->value.IsObject())
    return caf::make_error(
      ec::parse_error,
      fmt::format("watch line without an object: {}", excerpt(line)));
  parsed_watch_line result;
  if (type == "ERROR") {
    result.line.is_error = true;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    obj->value.Accept(w);
    result.line.status = parse_status({buf.GetString(), buf.GetSize()});
    if (result.line.status.message.empty() && result.line.status.code == 0)
      result.line.status.message = excerpt(line);
    return result;
  }
  auto& event = result.line.event;
  if (type == "ADDED")
    event.type = watch_event_type::added;
  else if (type == "MODIFIED")
    event.type = watch_event_type::modified;
  else if (type == "DELETED")
    event.type = watch_event_type::deleted;
  else if (type == "BOOKMARK")
    event.type = watch_event_type::bookmark;
  else
    return caf::make_error(
      ec::parse_error,
      fmt::format("unknown watch event type '{}'", excerpt(type, 40)));
  // Go's encoder writes {"type":"X","object":{...}}: the object's bytes
  // are then a slice of the line.
  constexpr std::string_view head = R"({"type":")";
  constexpr std::string_view mid = R"(","object":)";
  if (doc.MemberCount() == 2 && line.size() > head.size() + mid.size()
      && line.substr(0, head.size()) == head
      && line.substr(head.size(), type.size()) == type
      && line.substr(head.size() + type.size(), mid.size()) == mid
      && line.back() == '}') {
    auto skip = head.size() + type.size() + mid.size();
    auto text = line.substr(skip, line.size() - skip - 1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
      text.remove_suffix(1);
    result.object_text = text;
  }
  result.object = &obj->value;
  const auto& object = obj->value;
  if (auto m = object.FindMember("metadata");
      m != object.MemberEnd() && m->value.IsObject()) {
    event.resource_version = string_member(m->value, "resourceVersion");
    if (auto a = m->value.FindMember("annotations");
        a != m->value.MemberEnd() && a->value.IsObject())
      result.line.initial_events_end
        = string_member(a->value, "k8s.io/initial-events-end") == "true";
  }
  if (event.resource_version.empty())
    return caf::make_error(
      ec::parse_error,
      fmt::format("{} event without metadata.resourceVersion: {}", type,
                  excerpt(line)));
  return result;
}

caf::expected<watch_line> scan_watch_line(std::string_view line) {
  line_handler h;
  rapidjson::MemoryStream stream{line.data(), line.size()};
  h.stream = &stream;
  rapidjson::Reader reader;
  // Recursive: a seventh cheaper than the iterative parser on the bench's
  // lines. The handler stops it at `max_scan_depth`, so the io thread's
  // stack stays bounded; deeper lines take the full parse, which is
  // iterative.
  auto ok = reader.Parse(stream, h);
  // Anything unusual (errors, ERROR events, other member layouts) gets the
  // full parse, whose results and messages are the reference.
  if (ok.IsError() || h.depth != 0 || !h.object_is_object || h.type == "ERROR")
    return parse_watch_line(line);
  watch_line result;
  auto& event = result.event;
  if (h.type == "ADDED")
    event.type = watch_event_type::added;
  else if (h.type == "MODIFIED")
    event.type = watch_event_type::modified;
  else if (h.type == "DELETED")
    event.type = watch_event_type::deleted;
  else if (h.type == "BOOKMARK")
    event.type = watch_event_type::bookmark;
  else
    return parse_watch_line(line);
  constexpr std::string_view head = R"({"type":")";
  constexpr std::string_view mid = R"(","object":)";
  auto skip = head.size() + h.type.size() + mid.size();
  if (h.top_members != 2 || line.size() <= skip
      || line.substr(0, head.size()) != head
      || line.substr(head.size(), h.type.size()) != h.type
      || line.substr(head.size() + h.type.size(), mid.size()) != mid
      || line.back() != '}' || h.rv.empty())
    return parse_watch_line(line);
  auto text = line.substr(skip, line.size() - skip - 1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
    text.remove_suffix(1);
  event.object.assign(text);
  event.resource_version = std::move(h.rv);
  event.facts = h.facts.take();
  // Offsets in the line become offsets in the object's text.
  auto& facts = event.facts;
  if (facts.managed_fields_key_end > skip && facts.managed_fields_end > skip) {
    facts.managed_fields_key_end -= skip;
    facts.managed_fields_end -= skip;
  } else {
    facts.managed_fields_key_end = facts.managed_fields_end = 0;
  }
  result.initial_events_end = h.initial_events_end;
  return result;
}

caf::expected<watch_line> parse_watch_line(std::string_view line) {
  rapidjson::Document doc;
  auto parsed = parse_watch_line(line, doc);
  if (!parsed)
    return std::move(parsed.error());
  auto& result = parsed->line;
  if (result.is_error)
    return std::move(result);
  // Keep the apiserver's exact bytes; anything else is re-serialized.
  if (!parsed->object_text.empty()) {
    result.event.object.assign(parsed->object_text);
  } else {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    parsed->object->Accept(w);
    result.event.object.assign(buf.GetString(), buf.GetSize());
  }
  return std::move(result);
}

std::string url_encode(std::string_view x) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string result;
  result.reserve(x.size());
  for (auto ch : x) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
        || c == '~') {
      result += ch;
    } else {
      result += '%';
      result += hex[c >> 4];
      result += hex[c & 0xF];
    }
  }
  return result;
}

} // namespace kws::kube
