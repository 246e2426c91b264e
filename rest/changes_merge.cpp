#include "rest/changes_merge.hpp"

#include "rest/render.hpp"
#include "rest/server.hpp"
#include "util/json_parse.hpp"
#include "util/time_format.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <memory>

namespace kws::rest {

namespace {

struct ranked {
  bool spec_or_delete = false;
  int64_t warnings = 0;
  int64_t last_changed = 0;
  const std::string* cluster = nullptr;
  size_t place = 0;
  const rapidjson::Value* entry = nullptr;
};

bool ranks_before(const ranked& a, const ranked& b) {
  if (a.spec_or_delete != b.spec_or_delete)
    return a.spec_or_delete;
  if (a.warnings != b.warnings)
    return a.warnings > b.warnings;
  if (a.last_changed != b.last_changed)
    return a.last_changed > b.last_changed;
  if (*a.cluster != *b.cluster)
    return *a.cluster < *b.cluster;
  return a.place < b.place;
}

int64_t int_at(const rapidjson::Value& v, const char* outer,
               const char* inner) {
  auto o = v.FindMember(outer);
  if (o == v.MemberEnd() || !o->value.IsObject())
    return 0;
  auto i = o->value.FindMember(inner);
  return i != o->value.MemberEnd() && i->value.IsInt64() ? i->value.GetInt64()
                                                         : 0;
}

ranked rank_of(const rapidjson::Value& e) {
  ranked r;
  r.entry = &e;
  r.warnings = int_at(e, "events", "Warning");
  r.spec_or_delete = int_at(e, "verbs", "delete") > 0;
  if (auto c = e.FindMember("changeClasses");
      c != e.MemberEnd() && c->value.IsArray())
    for (const auto& x : c->value.GetArray())
      r.spec_or_delete
        |= x.IsString() && std::string_view{x.GetString()} == "spec";
  if (auto t = e.FindMember("lastChanged");
      t != e.MemberEnd() && t->value.IsString())
    if (auto ns = parse_rfc3339(t->value.GetString()))
      r.last_changed = *ns;
  return r;
}

} // namespace

http_response merge_changes(const std::vector<cluster_answer>& answers,
                            uint32_t limit) {
  for (const auto& a : answers)
    if (a.response.status != 200) {
      // A bad parameter is bad for every cluster; any other failure is
      // one cluster's, which the message names.
      auto res = a.response;
      rapidjson::Document err;
      err.Parse(res.body.c_str());
      if (res.status != 400 && err.IsObject() && err.HasMember("error")
          && err["error"].IsString())
        res.body = render_error_body("cluster " + a.cluster + ": "
                                     + err["error"].GetString());
      return res;
    }
  std::vector<std::unique_ptr<rapidjson::Document>> docs;
  std::vector<ranked> all;
  bool more = false;
  for (const auto& a : answers) {
    auto doc = std::make_unique<rapidjson::Document>();
    if (json::parse(*doc, a.response.body).IsError() || !doc->IsArray())
      return error_response(
        502, "cluster " + a.cluster + " gave an answer that is no JSON array");
    for (const auto& e : doc->GetArray()) {
      if (!e.IsObject())
        continue;
      auto r = rank_of(e);
      r.cluster = &a.cluster;
      r.place = all.size();
      all.push_back(r);
    }
    if (auto h = a.response.headers.find("X-Has-More");
        h != a.response.headers.end() && h->second == "true")
      more = true;
    docs.push_back(std::move(doc));
  }
  std::stable_sort(all.begin(), all.end(), ranks_before);
  if (all.size() > limit) {
    all.resize(limit);
    more = true;
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartArray();
  for (const auto& r : all) {
    w.StartObject();
    w.Key("cluster");
    w.String(r.cluster->data(),
             static_cast<rapidjson::SizeType>(r.cluster->size()));
    for (const auto& m : r.entry->GetObject()) {
      w.Key(m.name.GetString(), m.name.GetStringLength());
      m.value.Accept(w);
    }
    w.EndObject();
  }
  w.EndArray();
  http_response res;
  res.body.assign(buf.GetString(), buf.GetSize());
  res.headers["X-Total-Count"] = std::to_string(all.size());
  res.headers["X-Has-More"] = more ? "true" : "false";
  return res;
}

} // namespace kws::rest
