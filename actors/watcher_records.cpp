// The WATCHER's pure record building: watch events become records, and a
// relist becomes the records of what changed since STORAGE's view.
#include "actors/watcher.hpp"
#include "kube/relist_diff.hpp"
#include "rest/render.hpp"
#include "storage/record_builder.hpp"
#include "util/logging.hpp"

#include <rapidjson/document.h>

namespace kws {

namespace {

/// A minimal object standing for one that vanished while unobserved.
std::string vanished_object(const resource_type& rt, const live_object& obj) {
  auto slash = obj.key.find('/');
  auto ns
    = slash == std::string::npos ? std::string{} : obj.key.substr(0, slash);
  auto name = slash == std::string::npos ? obj.key : obj.key.substr(slash + 1);
  auto quote = [](const std::string& x) { return rest::json_string(x); };
  std::string meta = "\"name\":" + quote(name);
  if (!ns.empty())
    meta += ",\"namespace\":" + quote(ns);
  meta += ",\"uid\":" + quote(obj.uid);
  meta += ",\"resourceVersion\":" + quote(obj.resource_version);
  return "{\"apiVersion\":" + quote(rt.api_version())
    + ",\"kind\":" + quote(rt.kind) + ",\"metadata\":{" + meta + "}}";
}

/// The namespace of a live object's key ("<namespace>/<name>").
std::string_view key_namespace(const std::string& key) {
  auto slash = key.find('/');
  return slash == std::string::npos ? std::string_view{}
                                    : std::string_view{key}.substr(0, slash);
}

/// Keeps only the event's resourceVersion, which still moves the
/// checkpoint.
void to_bookmark(watch_event& ev) {
  ev.type = watch_event_type::bookmark;
  ev.object.clear();
}

/// metadata.uid of an object's JSON ("" when it has none).
std::string uid_of(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return {};
  auto md = doc.FindMember("metadata");
  if (md == doc.MemberEnd() || !md->value.IsObject())
    return {};
  auto it = md->value.FindMember("uid");
  return it != md->value.MemberEnd() && it->value.IsString()
    ? std::string{it->value.GetString(), it->value.GetStringLength()}
    : std::string{};
}

} // namespace

void retain_selected(const kube::selection& sel,
                     std::vector<watch_event>& events) {
  // Only namespace lists the request could not carry are checked here.
  if (sel.namespaces.empty() && sel.exclude_namespaces.empty())
    return;
  for (auto& ev : events) {
    if (ev.type == watch_event_type::bookmark
        || kube::selects_object(sel, ev.object))
      continue;
    to_bookmark(ev);
  }
}

std::vector<deleted_object>
selector_exit_candidates(const resource_type& rt, const kube::selection& sel,
                         const std::vector<watch_event>& events) {
  std::vector<deleted_object> result;
  if (sel.labels.empty() && sel.fields.empty())
    return result;
  for (const auto& ev : events) {
    if (ev.type != watch_event_type::deleted)
      continue;
    rapidjson::Document doc;
    doc.Parse(ev.object.data(), ev.object.size());
    if (doc.HasParseError() || !doc.IsObject())
      continue;
    auto md = doc.FindMember("metadata");
    if (md == doc.MemberEnd() || !md->value.IsObject())
      continue;
    auto text = [&](const char* key) {
      auto it = md->value.FindMember(key);
      return it != md->value.MemberEnd() && it->value.IsString()
        ? std::string{it->value.GetString(), it->value.GetStringLength()}
        : std::string{};
    };
    auto name = text("name");
    auto uid = text("uid");
    if (name.empty() || uid.empty())
      continue;
    result.push_back({rt.object_path(text("namespace"), name), std::move(uid)});
  }
  return result;
}

bool is_same_object(std::string_view body, std::string_view uid) {
  auto found = uid_of(body);
  return !found.empty() && found == uid;
}

void drop_selector_exits(std::vector<watch_event>& events,
                         const std::set<std::string>& still_there) {
  if (still_there.empty())
    return;
  // Each deleted object is parsed once, whatever the number of uids.
  for (auto& ev : events)
    if (ev.type == watch_event_type::deleted
        && still_there.count(uid_of(ev.object)) > 0)
      to_bookmark(ev);
}

void retain_selected(const kube::selection& sel, list_result& list,
                     std::vector<live_object>& known) {
  std::erase_if(known, [&](const live_object& obj) {
    auto ns = key_namespace(obj.key);
    return !ns.empty() && !sel.selects_namespace(ns);
  });
  if (sel.namespaces.empty() && sel.exclude_namespaces.empty())
    return;
  std::erase_if(list.items, [&](const std::string& item) {
    return !kube::selects_object(sel, item);
  });
}

void mark_status_drops(const watch_filter& filter, ingest_batch& batch) {
  if (filter.status != status_updates::drop)
    return;
  for (auto& ev : batch.events)
    ev.drop_if_status_only = ev.action == verb::update;
}

ingest_batch records_from_events(const resource_type& rt,
                                 const std::vector<watch_event>& events,
                                 bool digest_secret_values, int64_t now_ns,
                                 size_t& num_malformed,
                                 std::string_view digest_key) {
  ingest_batch result;
  result.group_resource = rt.group_resource();
  storage::record_options opts;
  opts.digest_secrets = digest_secret_values;
  opts.digest_key = digest_key;
  // The wire decoder keeps the apiserver's compact bytes (or writes compact
  // JSON): objectChanges is copied from them, not re-serialized.
  opts.copy_object_text = true;
  for (const auto& ev : events) {
    if (!ev.resource_version.empty())
      result.resource_version = ev.resource_version;
    verb v;
    switch (ev.type) {
      case watch_event_type::added: v = verb::create; break;
      case watch_event_type::modified: v = verb::update; break;
      case watch_event_type::deleted: v = verb::remove; break;
      default: continue; // bookmarks only move the checkpoint
    }
    opts.facts = &ev.facts;
    auto rec = storage::build_record(rt, v, ev.object, now_ns, opts);
    if (!rec) {
      ++num_malformed;
      KWS_WARN("watcher {} skipped a malformed object: {}", rt.group_resource(),
               rec.error());
      continue;
    }
    result.events.push_back(std::move(*rec));
  }
  return result;
}

ingest_batch records_from_list(const resource_type& rt, const list_result& list,
                               const std::vector<live_object>& known,
                               bool digest_secret_values, int64_t now_ns,
                               size_t& num_malformed,
                               std::string_view digest_key) {
  ingest_batch result;
  result.group_resource = rt.group_resource();
  result.resource_version = list.resource_version;
  auto diff = kube::diff_relist(known, list);
  num_malformed += diff.malformed.size();
  storage::record_options opts;
  opts.digest_secrets = digest_secret_values;
  opts.digest_key = digest_key;
  // List items and vanished objects are compact JSON written by RapidJSON.
  opts.copy_object_text = true;
  // A delete of a replaced uid comes before the create of the new one.
  for (const auto& gone : diff.deletes) {
    auto del_opts = opts;
    del_opts.final_state_unknown = true;
    auto rec = storage::build_record(
      rt, verb::remove, vanished_object(rt, gone), now_ns, del_opts);
    if (rec)
      result.events.push_back(std::move(*rec));
    else
      ++num_malformed;
  }
  auto add = [&](size_t i, verb v) {
    auto item_opts = opts;
    item_opts.from_initial_list = v == verb::create;
    auto rec = storage::build_record(rt, v, list.items[i], now_ns, item_opts);
    if (rec)
      result.events.push_back(std::move(*rec));
    else
      ++num_malformed;
  };
  for (auto i : diff.creates)
    add(i, verb::create);
  for (auto i : diff.updates)
    add(i, verb::update);
  return result;
}

} // namespace kws
