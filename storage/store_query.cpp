// Reads of the history store: event pages, object histories and the
// consistency check. Every read runs over one snapshot, walks one index
// under a key prefix in each partition whose time bounds overlap the query,
// and merges the partitions by (timestamp, sequence number).
#include "messages/errors.hpp"
#include "storage/change_paths.hpp"
#include "storage/change_tally.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_scan.hpp"

#include <unordered_set>

namespace kws::storage {

namespace {

/// Checks every key of `family`, one column family of `part`: each record
/// against its index entries, each index entry against its record.
caf::error verify_family(const read_view& view, const partition_ref& part,
                         rocksdb::ColumnFamilyHandle* family, uint64_t newest,
                         std::unordered_set<uint64_t>& seen,
                         consistency_report& report) {
  const char time_tag = static_cast<char>(index_kind::time);
  const bool shared = part.records == part.cf;
  // Across every prefix: the index family's prefix filters must not apply.
  auto ro = view.options();
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it{view.db->NewIterator(ro, family)};
  // What the `c` tallies count against the entries they count.
  object_tally tallied;
  size_t objects = 0;
  size_t links = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = it->key().ToStringView();
    if (!key.empty() && key[0] == static_cast<char>(index_kind::tally)) {
      ++report.tallies;
      auto t = decode_tally(it->value().ToStringView());
      if (!decode_tally_key(key) || !t)
        report.problems.push_back("undecodable tally in " + part.name);
      else
        add_tally(tallied, *t);
      continue;
    }
    if (!key.empty() && key[0] == static_cast<char>(index_kind::object))
      ++objects;
    if (!key.empty() && key[0] == static_cast<char>(index_kind::link))
      ++links;
    auto pos = key_position(key);
    if (!pos || key.empty()) {
      report.problems.push_back("short key in " + part.name);
      continue;
    }
    const bool is_record
      = key[0] == time_tag && key.size() == 1 + position_bytes;
    if (!shared && is_record != (family == part.records.get())) {
      report.problems.push_back(
        std::string{"'"} + key[0] + "' key of " + format_id(pos->seq)
        + " in the wrong column family of " + part.name);
      continue;
    }
    if (is_record) {
      ++report.records;
      if (pos->seq > newest)
        report.problems.push_back("record " + format_id(pos->seq)
                                  + " is newer than the sequence number");
      if (!seen.insert(pos->seq).second)
        report.problems.push_back("id " + format_id(pos->seq)
                                  + " is not unique");
      auto decoded = decode_record_value(it->value().ToStringView());
      if (!decoded) {
        report.problems.push_back("undecodable record " + format_id(pos->seq));
        continue;
      }
      if (decoded->second.find("\"id\":\"" + format_id(pos->seq) + "\"") != 1)
        report.problems.push_back("record " + format_id(pos->seq)
                                  + " does not start with its id");
      if (pos->ts < part.min_ts || pos->ts > part.max_ts)
        report.problems.push_back("record " + format_id(pos->seq)
                                  + " lies outside its partition bounds");
      auto keys = index_keys(decoded->first, *pos);
      for (size_t i = 1; i < keys.size(); ++i) {
        std::string value;
        auto st = view.db->Get(view.options(), part.cf.get(), keys[i], &value);
        bool found = false;
        if (st.ok())
          if (auto entry = decode_index_entry(keys[i], value))
            found = same_entry(static_cast<index_kind>(keys[i][0]), *entry,
                               decoded->first);
        if (!found)
          report.problems.push_back(std::string{"record "} + format_id(pos->seq)
                                    + " lacks its '" + keys[i][0]
                                    + "' index entry");
      }
    } else {
      ++report.index_entries;
      if (!decode_index_entry(key, it->value().ToStringView()))
        report.problems.push_back(std::string{"undecodable '"} + key[0]
                                  + "' index entry of " + format_id(pos->seq));
      auto record_key = std::string(1, time_tag) + encode_position(*pos);
      std::string value;
      auto st
        = view.db->Get(view.options(), part.records.get(), record_key, &value);
      if (!st.ok())
        report.problems.push_back(std::string{"'"} + key[0]
                                  + "' index entry without record "
                                  + format_id(pos->seq));
    }
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot verify partition " + part.name);
  if (part.tallied && family == part.cf.get()) {
    if (tallied.creates + tallied.updates + tallied.deletes != objects)
      report.problems.push_back("the tallies of " + part.name
                                + " count other records than its entries");
    if (tallied.warnings + tallied.normals != links)
      report.problems.push_back("the tallies of " + part.name
                                + " count other Events than its entries");
  }
  return {};
}

} // namespace

caf::expected<event_page> rocks_store::query(const event_query& q) const {
  if (q.limit == 0)
    return caf::make_error(ec::invalid_argument, "limit",
                           "limit must be at least 1");
  if (q.start_ns > q.end_ns)
    return caf::make_error(ec::invalid_argument, "start",
                           "start lies after end");
  const auto filters = filter_hash(q);
  std::optional<page_cursor> cursor;
  if (!q.continue_token.empty()) {
    auto c = decode_cursor(q.continue_token);
    if (!c)
      return c.error();
    if (c->filters != filters)
      return caf::make_error(ec::invalid_argument, "continue",
                             "the continue token belongs to a query with "
                             "other filters");
    cursor = *c;
  }
  auto view = impl_->view();
  scan_spec spec;
  spec.prefix = plan_query(q).prefix;
  spec.start_ns = q.start_ns;
  spec.end_ns = q.end_ns;
  spec.descending = q.descending;
  if (cursor) {
    spec.after = cursor->last;
    spec.max_seq = cursor->max_seq;
  } else {
    auto newest = newest_seq(view);
    if (!newest)
      return newest.error();
    spec.max_seq = *newest;
  }
  event_page page;
  position last;
  auto keep = [&q](const record_summary& s) { return matches(q, s); };
  record_filter filter;
  if (!q.path.empty())
    filter
      = [&q](std::string_view json) { return changed_under(json, q.path); };
  // At most 8 MiB a page, like the other paged answers.
  if (auto err = collect(view, spec, q.limit, keep, page.records, page.has_more,
                         last, filter, max_page_bytes))
    return err;
  if (page.has_more)
    page.continue_token
      = encode_cursor(page_cursor{last, spec.max_seq, filters});
  return page;
}

caf::expected<object_history>
rocks_store::history(const history_query& q) const {
  if (q.limit == 0)
    return caf::make_error(ec::invalid_argument, "limit",
                           "limit must be at least 1");
  if (q.start_ns > q.end_ns)
    return caf::make_error(ec::invalid_argument, "start",
                           "start lies after end");
  if (q.resource.empty() || q.name.empty())
    return caf::make_error(ec::invalid_argument, "resourceType",
                           "an object history needs a resource and a name");
  auto view = impl_->view();
  auto own = [&q](const record_summary& s) {
    return s.ns == q.ns && s.resource == q.resource && s.name == q.name
      && (q.group.empty() || s.group == q.group);
  };
  auto about = [&q](const record_summary& s) {
    return s.link_ns == q.ns && s.link_resource == q.resource
      && s.link_name == q.name;
  };
  scan_spec watch_spec;
  watch_spec.prefix
    = index_prefix(index_kind::object, {q.ns, q.resource, q.name});
  watch_spec.start_ns = q.start_ns;
  watch_spec.end_ns = q.end_ns;
  scan_spec link_spec = watch_spec;
  link_spec.prefix = index_prefix(index_kind::link, {q.ns, q.resource, q.name});
  object_history result;
  bool more = false;
  position last;
  if (auto err = collect(view, watch_spec, q.limit, own, result.watch_events,
                         more, last))
    return err;
  if (auto err = collect(view, link_spec, q.limit, about, result.related_events,
                         more, last))
    return err;
  result.found = !result.watch_events.empty() || !result.related_events.empty();
  if (result.found || (q.start_ns == min_time_ns && q.end_ns == max_time_ns))
    return result;
  // Nothing in the time range: the object still counts as seen when any
  // retained record names it.
  for (auto* spec : {&watch_spec, &link_spec}) {
    spec->start_ns = min_time_ns;
    spec->end_ns = max_time_ns;
  }
  std::vector<std::string> probe;
  if (auto err = collect(view, watch_spec, 1, own, probe, more, last))
    return err;
  if (probe.empty())
    if (auto err = collect(view, link_spec, 1, about, probe, more, last))
      return err;
  result.found = !probe.empty();
  return result;
}

caf::expected<consistency_report> rocks_store::verify() const {
  auto view = impl_->view();
  consistency_report report;
  auto newest = newest_seq(view);
  if (!newest)
    return newest.error();
  std::unordered_set<uint64_t> seen;
  for (const auto& part : view.parts) {
    for (auto* family : part.families())
      if (auto err = verify_family(view, part, family, *newest, seen, report))
        return err;
  }
  return report;
}

} // namespace kws::storage
