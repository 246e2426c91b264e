// Answers about changes of one object: a record by id, the patch between
// two versions, and who last changed each field (blame). The versions come
// from the object's history walk; patches are computed here, at query time,
// from the stored snapshots, so any two versions can be compared.
#include "storage/change_enricher.hpp"
#include "storage/change_message.hpp"
#include "storage/json_diff.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_scan.hpp"
#include "util/errors.hpp"
#include "util/json_fields.hpp"
#include "util/json_text.hpp"
#include "util/time_format.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

namespace kws::storage {

namespace {

/// Versions of one object a blame or diff reads at most.
constexpr uint32_t max_versions = 100'000;

/// One stored version, parsed.
struct version {
  std::string json;
  rapidjson::Document doc;

  std::string field(const char* name) const {
    return std::string{json::string_member(doc, name)};
  }

  const rapidjson::Value* member(const char* name) const {
    return json::member(doc, name);
  }

  const rapidjson::Value& object() const {
    static const rapidjson::Value empty{rapidjson::kObjectType};
    auto* x = member("objectChanges");
    return x != nullptr ? *x : empty;
  }

  /// `{"id","timestamp","resourceVersion","uid"}`.
  std::string ref() const {
    return "{\"id\":" + quote_json(field("id"))
      + ",\"timestamp\":" + quote_json(field("timestamp"))
      + ",\"resourceVersion\":" + quote_json(field("resourceVersion"))
      + ",\"uid\":" + quote_json(field("uid")) + "}";
  }

  /// The manager of `path` this version recorded (`fieldManagers`), or ""
  /// when it changed nothing at, under or above `path`.
  std::string manager_of(std::string_view path) const {
    auto* owners = member("fieldManagers");
    if (owners == nullptr || !owners->IsObject())
      return {};
    for (const auto& m : owners->GetObject()) {
      std::string_view key{m.name.GetString(), m.name.GetStringLength()};
      if ((pointer_has_prefix(key, path) || pointer_has_prefix(path, key))
          && m.value.IsString())
        return {m.value.GetString(), m.value.GetStringLength()};
    }
    return {};
  }
};

caf::error not_found(std::string what) {
  return caf::make_error(ec::not_found, std::move(what));
}

/// The versions of the object `spec` walks (its prefix is set here), at
/// most `limit`, oldest first.
caf::expected<std::vector<version>> versions_of(const read_view& view,
                                                const object_ref& obj,
                                                scan_spec spec,
                                                uint32_t limit) {
  if (obj.resource.empty() || obj.name.empty())
    return caf::make_error(ec::invalid_argument, "resourceType",
                           "an object needs a resource and a name");
  spec.prefix
    = index_prefix(index_kind::object, {obj.ns, obj.resource, obj.name});
  auto own = [&obj](const record_summary& s) {
    return s.ns == obj.ns && s.resource == obj.resource && s.name == obj.name
      && (obj.group.empty() || s.group == obj.group);
  };
  std::vector<std::string> jsons;
  bool more = false;
  position last;
  if (auto err = collect(view, spec, limit, own, jsons, more, last))
    return err;
  if (spec.descending)
    std::reverse(jsons.begin(), jsons.end());
  std::vector<version> result(jsons.size());
  for (size_t i = 0; i < jsons.size(); ++i) {
    result[i].json = std::move(jsons[i]);
    result[i].doc.Parse(result[i].json.data(), result[i].json.size());
    if (result[i].doc.HasParseError() || !result[i].doc.IsObject())
      return caf::make_error(ec::storage_failure,
                             "a stored record of " + obj.name
                               + " is not valid JSON");
  }
  return result;
}

/// Where the record `id` is; nullopt when unknown or expired.
caf::expected<std::optional<position>> position_of(const read_view& view,
                                                   const std::string& id) {
  scan_spec spec;
  spec.prefix = index_prefix(index_kind::id, {id});
  std::optional<position> result;
  auto err = scan(view, spec,
                  [&](const partition_ref&, std::string_view, position pos,
                      std::string_view) {
                    result = pos;
                    return false;
                  });
  if (err)
    return err;
  return result;
}

std::string object_name(const object_ref& obj) {
  return obj.resource + " " + (obj.ns.empty() ? "" : obj.ns + "/") + obj.name;
}

/// Index of the version with id `id`; an `invalid_argument` naming `param`
/// when the object has none.
caf::expected<size_t> find_version(const std::vector<version>& vs,
                                   const std::string& id, const char* param,
                                   const object_ref& obj) {
  for (size_t i = 0; i < vs.size(); ++i)
    if (vs[i].field("id") == id)
      return i;
  return caf::make_error(ec::invalid_argument, param,
                         "record " + id + " is no version of "
                           + object_name(obj));
}

} // namespace

namespace {

caf::expected<json_answer> record_in(const read_view& view,
                                     const record_query& q) {
  scan_spec spec;
  spec.prefix = index_prefix(index_kind::id, {q.id});
  std::vector<std::string> out;
  bool more = false;
  position last;
  auto any = [](const record_summary&) { return true; };
  if (auto err = collect(view, spec, 1, any, out, more, last))
    return err;
  if (out.empty())
    return not_found("no record " + q.id + " (unknown or expired)");
  json_answer result;
  result.body = std::move(out.front());
  result.count = 1;
  return result;
}

} // namespace

caf::expected<json_answer> rocks_store::record(const record_query& q) const {
  auto view = impl_->view();
  return view.vouch(record_in(view, q));
}

namespace {

caf::expected<json_answer> diff_in(const read_view& view, const diff_query& q) {
  // Reads only the versions the answer needs: the range between two ids,
  // or a version and its neighbour.
  std::optional<position> from_pos;
  std::optional<position> to_pos;
  for (auto [id, param, out] : {std::tuple{&q.from_id, "from", &from_pos},
                                std::tuple{&q.to_id, "to", &to_pos}}) {
    if (id->empty())
      continue;
    auto pos = position_of(view, *id);
    if (!pos)
      return pos.error();
    if (!*pos)
      return caf::make_error(ec::invalid_argument, param,
                             "no record " + *id + " (unknown or expired)");
    *out = **pos;
  }
  scan_spec spec;
  uint32_t limit = 2;
  if (from_pos && to_pos) {
    spec.start_ns = std::min(from_pos->ts, to_pos->ts);
    spec.end_ns = std::max(from_pos->ts, to_pos->ts);
    limit = max_versions;
  } else if (to_pos) {
    // `to` and the version before it.
    spec.descending = true;
    spec.after = position{to_pos->ts, to_pos->seq + 1};
  } else if (from_pos) {
    // `from` (ids start at 1) and the version after it.
    spec.after = position{from_pos->ts, from_pos->seq - 1};
  } else {
    spec.descending = true;
  }
  auto vs = versions_of(view, q.object, spec, limit);
  if (!vs)
    return vs.error();
  if (vs->empty())
    return not_found("no records of " + object_name(q.object));
  size_t from = 0;
  size_t to = 0;
  if (from_pos && to_pos) {
    auto f = find_version(*vs, q.from_id, "from", q.object);
    if (!f)
      return f.error();
    auto t = find_version(*vs, q.to_id, "to", q.object);
    if (!t)
      return t.error();
    from = *f;
    to = *t;
  } else if (to_pos) {
    if (vs->back().field("id") != q.to_id)
      return find_version({}, q.to_id, "to", q.object).error();
    if (vs->size() < 2)
      return not_found("record " + q.to_id + " is the oldest version of "
                       + object_name(q.object));
    from = 0;
    to = 1;
  } else if (from_pos) {
    if (vs->front().field("id") != q.from_id)
      return find_version({}, q.from_id, "from", q.object).error();
    if (vs->size() < 2)
      return not_found("record " + q.from_id + " is the newest version of "
                       + object_name(q.object));
    from = 0;
    to = 1;
  } else {
    if (vs->size() < 2)
      return not_found("only one version of " + object_name(q.object)
                       + " is stored");
    from = 0;
    to = 1;
  }
  const auto& a = (*vs)[from];
  const auto& b = (*vs)[to];
  auto d = diff_json(a.object(), b.object());
  drop_ops_under(d.ops, q.ignore);
  // The manager of an op: the newest version from `from` (exclusive) to
  // `to` that recorded who changed that path.
  auto manager_of = [&](std::string_view path) -> std::string {
    if (to <= from)
      return {};
    for (size_t i = to; i > from; --i)
      if (auto m = (*vs)[i].manager_of(path); !m.empty())
        return m;
    return {};
  };
  auto summary
    = update_message("Update " + q.object.resource + " " + q.object.name,
                     d.changed_paths, a.object(), b.object());
  json_answer result;
  result.body = "{\"from\":" + a.ref() + ",\"to\":" + b.ref()
    + ",\"patch\":" + patch_to_json(d.ops, manager_of)
    + ",\"summary\":" + quote_json(summary) + "}";
  result.count = d.ops.size();
  return result;
}

} // namespace

caf::expected<json_answer> rocks_store::diff(const diff_query& q) const {
  auto view = impl_->view();
  return view.vouch(diff_in(view, q));
}

namespace {

caf::expected<json_answer> blame_in(const read_view& view,
                                    const blame_query& q) {
  scan_spec spec;
  spec.end_ns = q.at_ns;
  auto vs = versions_of(view, q.object, spec, max_versions);
  if (!vs)
    return vs.error();
  // The version current at `at`: the newest one not after it.
  std::optional<size_t> current;
  for (size_t i = 0; i < vs->size(); ++i) {
    auto ts = parse_rfc3339((*vs)[i].field("timestamp"));
    if (ts && *ts <= q.at_ns)
      current = i;
  }
  if (!current)
    return not_found("no version of " + object_name(q.object)
                     + " existed at that time");
  const auto& now = (*vs)[*current];
  if (now.field("verb") == "delete")
    return not_found(object_name(q.object) + " was deleted at "
                     + now.field("timestamp"));
  // Walk the versions of its uid oldest first; each update takes over the
  // paths it changed, the oldest version owns everything else.
  auto uid = now.field("uid");
  size_t first = *current;
  while (first > 0 && (*vs)[first - 1].field("uid") == uid
         && (*vs)[first - 1].field("verb") != "delete")
    --first;
  struct owner {
    size_t version;
    std::string manager;
  };
  std::map<std::string, owner, std::less<>> last_change;
  for (size_t i = first + 1; i <= *current; ++i) {
    const auto& v = (*vs)[i];
    auto* paths = v.member("changedPaths");
    if (paths == nullptr || !paths->IsArray())
      continue;
    for (const auto& p : paths->GetArray()) {
      if (!p.IsString())
        continue;
      std::string path{p.GetString(), p.GetStringLength()};
      auto manager = v.manager_of(path);
      last_change[path] = owner{i, manager};
    }
  }
  auto first_manager = [&](size_t i) {
    const auto& v = (*vs)[i];
    return v.field("user");
  };
  std::string fields = "[";
  bool comma = false;
  for (const auto& path : leaf_paths(now.object())) {
    owner o{first, {}};
    if (auto it = last_change.find(path); it != last_change.end())
      o = it->second;
    else
      o.manager = (*vs)[first].manager_of(path);
    if (o.manager.empty())
      o.manager = first_manager(o.version);
    const auto& v = (*vs)[o.version];
    if (comma)
      fields += ',';
    comma = true;
    fields += "{\"path\":" + quote_json(path)
      + ",\"id\":" + quote_json(v.field("id"))
      + ",\"timestamp\":" + quote_json(v.field("timestamp"))
      + ",\"verb\":" + quote_json(v.field("verb"))
      + ",\"manager\":" + quote_json(o.manager) + "}";
  }
  fields += "]";
  json_answer result;
  result.body = "{\"version\":" + now.ref() + ",\"fields\":" + fields + "}";
  return result;
}

} // namespace

caf::expected<json_answer> rocks_store::blame(const blame_query& q) const {
  auto view = impl_->view();
  return view.vouch(blame_in(view, q));
}

} // namespace kws::storage
