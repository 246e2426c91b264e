// `GET /api/v1/changes`: what changed in a window, one entry per object.
// The objects are counted by `window_tally.hpp` (per-object tallies kept at
// ingest, index entries, or records, per partition); only the page's
// objects have their records read, for the changed paths and the net
// patch.
#include "storage/change_paths.hpp"
#include "storage/json_diff.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_impl.hpp"
#include "storage/store_window.hpp"
#include "storage/window_tally.hpp"
#include "util/errors.hpp"
#include "util/json_fields.hpp"
#include "util/json_text.hpp"
#include "util/time_format.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <set>

namespace kws::storage {

using namespace window;

namespace {

/// Spec changes and deletes first, then by Warning Events, then newest.
bool ranks_before(const object_changes& a, const object_changes& b) {
  if (a.spec_or_delete() != b.spec_or_delete())
    return a.spec_or_delete();
  if (a.warnings != b.warnings)
    return a.warnings > b.warnings;
  if (a.last != b.last)
    return a.last > b.last;
  return a.key < b.key;
}

/// A top-level string member of a record ("" when absent).
std::string string_field(const rapidjson::Value& doc, const char* name) {
  return std::string{json::string_member(doc, name)};
}

/// The object's records under its `h` (or `e`) prefix in [lo, hi].
caf::expected<std::vector<std::string>>
records_of(const read_view& view, index_kind kind, const object_key& k,
           int64_t lo, int64_t hi, uint64_t max_seq, uint32_t limit,
           bool descending, bool& more) {
  scan_spec spec;
  spec.prefix = index_prefix(kind, {k.ns, k.resource, k.name});
  spec.start_ns = lo;
  spec.end_ns = hi;
  spec.max_seq = max_seq;
  spec.descending = descending;
  std::vector<std::string> out;
  position last;
  more = false;
  auto keep = [&](const record_summary& s) {
    return kind == index_kind::link
      ? s.link_ns == k.ns && s.link_resource == k.resource
        && s.link_name == k.name
      : s.ns == k.ns && s.resource == k.resource && s.name == k.name;
  };
  if (auto err = collect(view, spec, limit, keep, out, more, last))
    return err;
  return out;
}

/// The entry of one object: counts, changed paths, net patch, Events.
caf::expected<std::string> render_entry(const read_view& view,
                                        const window_query& q, uint64_t max_seq,
                                        const object_changes& c) {
  bool more = false;
  auto in_window
    = records_of(view, index_kind::object, c.key, q.start_ns, q.end_ns, max_seq,
                 max_entry_records, false, more);
  if (!in_window)
    return in_window.error();
  std::set<std::string> paths;
  std::string uid;
  std::string first_id;
  std::string last_id;
  rapidjson::Document last_doc;
  for (const auto& json : *in_window) {
    for (auto& p : record_changed_paths(json))
      paths.insert(std::move(p));
  }
  if (!in_window->empty()) {
    rapidjson::Document first_doc;
    first_doc.Parse(in_window->front().data(), in_window->front().size());
    if (first_doc.IsObject())
      first_id = string_field(first_doc, "id");
    last_doc.Parse(in_window->back().data(), in_window->back().size());
    if (last_doc.IsObject()) {
      last_id = string_field(last_doc, "id");
      uid = string_field(last_doc, "uid");
    }
  }
  // The state before the window: the newest record before it, unless a
  // delete.
  bool before_more = false;
  std::vector<std::string> before;
  if (q.start_ns != min_time_ns) {
    auto found = records_of(view, index_kind::object, c.key, min_time_ns,
                            q.start_ns - 1, max_seq, 1, true, before_more);
    if (!found)
      return found.error();
    before = std::move(*found);
  }
  rapidjson::Document before_doc;
  const rapidjson::Value* from = nullptr;
  if (!before.empty()) {
    before_doc.Parse(before.front().data(), before.front().size());
    if (before_doc.IsObject() && string_field(before_doc, "verb") != "delete")
      if (auto it = before_doc.FindMember("objectChanges");
          it != before_doc.MemberEnd())
        from = &it->value;
  }
  const rapidjson::Value* to = nullptr;
  if (last_doc.IsObject() && string_field(last_doc, "verb") != "delete")
    if (auto it = last_doc.FindMember("objectChanges");
        it != last_doc.MemberEnd())
      to = &it->value;
  std::string patch;
  if (from != nullptr && to != nullptr)
    patch = patch_to_json(diff_json(*from, *to).ops);
  else if (to != nullptr)
    patch
      = "[{\"op\":\"add\",\"path\":\"\",\"value\":" + compact_json(*to) + "}]";
  else
    patch = "null"; // deleted by the end of the window, or never seen
  // Reasons of the Events about it, for a caller who may read Events there
  // (an object's Events live in its namespace).
  const bool events_shown = allows(q.access, c.key.ns, "events", "");
  bool events_more = false;
  auto events = events_shown
    ? records_of(view, index_kind::link, c.key, q.start_ns, q.end_ns, max_seq,
                 max_entry_records, false, events_more)
    : std::vector<std::string>{};
  if (!events)
    return events.error();
  std::map<std::string, size_t> reasons;
  for (const auto& json : *events) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.IsObject())
      ++reasons[string_field(doc, "reason")];
  }
  std::string out = "{\"namespace\":" + quote_json(c.key.ns)
    + ",\"resourceType\":" + quote_json(c.key.resource) + ",\"resourceName\":"
    + quote_json(c.key.name) + ",\"uid\":" + quote_json(uid)
    + ",\"verbs\":{\"create\":" + std::to_string(c.creates)
    + ",\"update\":" + std::to_string(c.updates)
    + ",\"delete\":" + std::to_string(c.deletes) + "},\"changeClasses\":[";
  bool comma = false;
  for (auto cls : {change_class::spec, change_class::status, change_class::meta,
                   change_class::none, change_class::event}) {
    if ((c.classes & (1u << static_cast<uint8_t>(cls))) == 0)
      continue;
    out += comma ? ",\"" : "\"";
    out += to_string(cls);
    out += '"';
    comma = true;
  }
  out += "],\"first\":" + quote_json(first_id)
    + ",\"last\":" + quote_json(last_id) + ",\"lastChanged\":\""
    + format_rfc3339(c.last.ts) + "\",\"changedPaths\":[";
  comma = false;
  for (const auto& p : paths) {
    if (comma)
      out += ',';
    out += quote_json(p);
    comma = true;
  }
  out += "]";
  if (more)
    out += ",\"recordsTruncated\":true";
  out += ",\"patch\":" + patch + ",\"events\":{\"Warning\":"
    + std::to_string(events_shown ? c.warnings : 0) + ",\"Normal\":"
    + std::to_string(events_shown ? c.normals : 0) + ",\"reasons\":{";
  comma = false;
  for (const auto& [reason, n] : reasons) {
    if (comma)
      out += ',';
    out += quote_json(reason) + ":" + std::to_string(n);
    comma = true;
  }
  return out + "}}}";
}

} // namespace

namespace {

caf::expected<json_answer> changes_in(const read_view& view,
                                      const changes_query& cq) {
  const auto& q = cq.window;
  auto filters = window_hash(q, "changes");
  auto page = start_page(view, q, filters);
  if (!page)
    return page.error();
  std::vector<object_changes> objects;
  if (auto err = tally_window(view, q, page->max_seq, objects))
    return err;
  std::vector<const object_changes*> ranked;
  ranked.reserve(objects.size());
  for (const auto& c : objects)
    if (c.changed()
        && (q.change_classes == 0 || (c.classes & q.change_classes) != 0))
      ranked.push_back(&c);
  // The token holds the number of entries already returned: the ranking is
  // the same for every page, which reads the same records (`max_seq`).
  size_t offset = 0;
  if (!q.continue_token.empty()) {
    if (page->after.size() != 8)
      return caf::make_error(ec::invalid_argument, "continue",
                             "the continue token is not one this server "
                             "gave for this query");
    offset = read_u64(page->after);
  }
  // Only this page's entries need their places: a day holds 10^5 objects.
  auto ranked_end = ranked.begin()
    + static_cast<ptrdiff_t>(std::min<uint64_t>(ranked.size(),
                                                uint64_t{offset} + q.limit));
  std::partial_sort(ranked.begin(), ranked_end, ranked.end(),
                    [](const object_changes* a, const object_changes* b) {
                      return ranks_before(*a, *b);
                    });
  json_answer result;
  result.paged = true;
  result.body.push_back('[');
  for (size_t i = offset; i < ranked.size(); ++i) {
    if (result.count >= q.limit || result.body.size() > max_page_bytes) {
      result.has_more = true;
      break;
    }
    auto entry = render_entry(view, q, page->max_seq, *ranked[i]);
    if (!entry)
      return entry.error();
    if (result.count > 0)
      result.body += ',';
    result.body += *entry;
    ++result.count;
  }
  result.body += ']';
  if (result.has_more) {
    std::string after;
    append_u64(after, offset + result.count);
    result.continue_token = encode_token(page->max_seq, filters, after);
  }
  return result;
}

} // namespace

caf::expected<json_answer> rocks_store::changes(const changes_query& cq) const {
  auto view = impl_->view();
  return view.vouch(changes_in(view, cq));
}

} // namespace kws::storage
