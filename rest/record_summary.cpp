#include "rest/record_summary.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace kws::rest {

namespace {

/// The record builder writes the snapshot last, so its key's first
/// occurrence is the record's own (a key inside the snapshot comes later).
constexpr std::string_view snapshot_key = ",\"objectChanges\":";

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

const rapidjson::Value* member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject())
    return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

void write_owners(writer& w, const rapidjson::Value& refs) {
  w.StartArray();
  for (const auto& ref : refs.GetArray()) {
    if (!ref.IsObject())
      continue;
    w.StartObject();
    for (const char* key : {"kind", "name", "uid"}) {
      if (const auto* v = member(ref, key); v && v->IsString()) {
        w.Key(key);
        w.String(v->GetString(), v->GetStringLength());
      }
    }
    if (const auto* v = member(ref, "controller"); v && v->IsBool()) {
      w.Key("controller");
      w.Bool(v->GetBool());
    }
    w.EndObject();
  }
  w.EndArray();
}

} // namespace

std::string summarize_record(std::string_view record) {
  auto at = record.find(snapshot_key);
  if (at == std::string_view::npos
      || record.size() < at + snapshot_key.size() + 1)
    return std::string{record};
  std::string out{record.substr(0, at)};
  auto snapshot = record.substr(at + snapshot_key.size());
  snapshot.remove_suffix(1); // the record's closing brace
  rapidjson::Document doc;
  doc.Parse(snapshot.data(), snapshot.size());
  const auto* meta = doc.HasParseError() ? nullptr : member(doc, "metadata");
  rapidjson::StringBuffer buf;
  writer w{buf};
  if (const auto* refs = meta ? member(*meta, "ownerReferences") : nullptr;
      refs && refs->IsArray()) {
    out += ",\"ownerReferences\":";
    write_owners(w, *refs);
    out.append(buf.GetString(), buf.GetSize());
  }
  if (const auto* labels = meta ? member(*meta, "labels") : nullptr;
      labels && labels->IsObject()) {
    buf.Clear();
    w.Reset(buf);
    labels->Accept(w);
    out += ",\"labels\":";
    out.append(buf.GetString(), buf.GetSize());
  }
  out += '}';
  return out;
}

} // namespace kws::rest
