#include "kube/wire.hpp"

#include "messages/json_fields.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace kws::kube {

namespace {

/// Shortens peer data quoted in error messages.
std::string excerpt(std::string_view x, size_t max = 200) {
  if (x.size() <= max)
    return std::string{x};
  return std::string{x.substr(0, max)} + "...";
}

/// Builds a Document from the parser's events but converts numbers itself.
/// RapidJSON 1.1.0 (Debian's) gets numbers wrong in full-precision mode:
/// `0e100` became -2e146, `0.` with 30 zeros 9.6e-240, and the integer
/// 18446744073709551615661100 9.7e24 (Tencent/rapidjson#1249 and later
/// fixes); its normal mode may be a few ULP off. Objects are re-serialized
/// from the Document, so a wrong value would be stored. std::from_chars
/// rounds correctly; integers keep RapidJSON's own types.
struct exact_numbers {
  rapidjson::Document& doc;

  bool Null() { return doc.Null(); }
  bool Bool(bool b) { return doc.Bool(b); }
  bool Int(int i) { return doc.Int(i); }
  bool Uint(unsigned u) { return doc.Uint(u); }
  bool Int64(int64_t i) { return doc.Int64(i); }
  bool Uint64(uint64_t u) { return doc.Uint64(u); }
  bool Double(double d) { return doc.Double(d); }
  bool String(const char* str, rapidjson::SizeType len, bool copy) {
    return doc.String(str, len, copy);
  }
  bool StartObject() { return doc.StartObject(); }
  bool Key(const char* str, rapidjson::SizeType len, bool copy) {
    return doc.Key(str, len, copy);
  }
  bool EndObject(rapidjson::SizeType n) { return doc.EndObject(n); }
  bool StartArray() { return doc.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return doc.EndArray(n); }

  /// `text` is a valid JSON number (the parser checked its syntax).
  bool RawNumber(const char* str, rapidjson::SizeType len, bool) {
    std::string_view text{str, len};
    auto end = text.data() + text.size();
    bool minus = text.front() == '-';
    if (text.find_first_of(".eE") == std::string_view::npos) {
      uint64_t u = 0;
      auto first = text.data() + (minus ? 1 : 0);
      auto [ptr, err] = std::from_chars(first, end, u);
      if (err == std::errc{} && ptr == end) {
        if (!minus)
          return doc.Uint64(u);
        if (u <= uint64_t{1} << 63)
          return doc.Int64(static_cast<int64_t>(~u + 1));
      }
      // Beyond 64 bits: a double, as RapidJSON does.
    }
    double d = 0;
    auto [ptr, err] = std::from_chars(text.data(), end, d);
    if (err == std::errc::result_out_of_range) {
      // from_chars does not say which way; underflow is 0 as in RapidJSON,
      // overflow an error.
      d = std::strtod(std::string{text}.c_str(), nullptr);
      if (std::isinf(d))
        return false;
    } else if (err != std::errc{} || ptr != end) {
      return false;
    }
    return doc.Double(d);
  }
};

/// Parses `json` into `doc` (see exact_numbers).
rapidjson::ParseResult parse_json(rapidjson::Document& doc,
                                  std::string_view json) {
  rapidjson::ParseResult result;
  auto generate = [&](rapidjson::Document& target) {
    // As Document::Parse reads it (a UTF-8 BOM is skipped).
    rapidjson::MemoryStream memory{json.data(), json.size()};
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream>
      stream{memory};
    rapidjson::Reader reader;
    exact_numbers handler{target};
    result
      = reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(stream, handler);
    return !result.IsError();
  };
  doc.Populate(generate);
  return result;
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
  auto parsed = parse_json(doc, body);
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
  if (auto parsed = parse_json(doc, body); parsed.IsError())
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

caf::expected<watch_line> parse_watch_line(std::string_view line) {
  rapidjson::Document doc;
  auto parsed = parse_json(doc, line);
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
  watch_line result;
  if (type == "ERROR") {
    result.is_error = true;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    obj->value.Accept(w);
    result.status = parse_status({buf.GetString(), buf.GetSize()});
    if (result.status.message.empty() && result.status.code == 0)
      result.status.message = excerpt(line);
    return result;
  }
  if (type == "ADDED")
    result.event.type = watch_event_type::added;
  else if (type == "MODIFIED")
    result.event.type = watch_event_type::modified;
  else if (type == "DELETED")
    result.event.type = watch_event_type::deleted;
  else if (type == "BOOKMARK")
    result.event.type = watch_event_type::bookmark;
  else
    return caf::make_error(
      ec::parse_error,
      fmt::format("unknown watch event type '{}'", excerpt(type, 40)));
  // Go's encoder writes {"type":"X","object":{...}}: slice the object out
  // to keep its bytes; anything else is re-serialized.
  auto prefix = fmt::format(R"({{"type":"{}","object":)", type);
  if (doc.MemberCount() == 2 && line.substr(0, prefix.size()) == prefix
      && line.back() == '}') {
    auto text = line.substr(prefix.size(), line.size() - prefix.size() - 1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
      text.remove_suffix(1);
    result.event.object.assign(text);
  } else {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    obj->value.Accept(w);
    result.event.object.assign(buf.GetString(), buf.GetSize());
  }
  const auto& object = obj->value;
  if (auto m = object.FindMember("metadata");
      m != object.MemberEnd() && m->value.IsObject()) {
    result.event.resource_version = string_member(m->value, "resourceVersion");
    if (auto a = m->value.FindMember("annotations");
        a != m->value.MemberEnd() && a->value.IsObject())
      result.initial_events_end
        = string_member(a->value, "k8s.io/initial-events-end") == "true";
  }
  if (result.event.resource_version.empty())
    return caf::make_error(
      ec::parse_error,
      fmt::format("{} event without metadata.resourceVersion: {}", type,
                  excerpt(line)));
  return result;
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
