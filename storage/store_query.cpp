// Reads of the history store: event pages and object histories. Every read
// runs over one snapshot, walks one index under a key prefix in each
// partition whose time bounds overlap the query, and merges the partitions
// by (timestamp, sequence number).
#include "storage/change_paths.hpp"
#include "storage/rocks_store.hpp"
#include "storage/store_scan.hpp"
#include "util/errors.hpp"

namespace kws::storage {

namespace {

/// Whether `filter` lets the stored record `json` through, by its own
/// namespace, resourceType and apiVersion's group.
bool record_allowed(std::string_view json, const access_filter& filter) {
  auto owner = record_owner(json);
  return owner
    && allows(filter, owner->ns, owner->type.plural, owner->type.group);
}

} // namespace

namespace {

caf::expected<event_page> query_in(const read_view& view,
                                   const event_query& q) {
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
  const auto plan = plan_query(q);
  scan_spec spec;
  spec.prefix = plan.prefix;
  spec.each_run = plan.kind == index_kind::ns;
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
  // Type index entries written before they named the object leave out its
  // namespace; there a restricted caller's check reads the record.
  const bool owner_in_entry = plan.kind != index_kind::resource;
  auto keep = [&q, owner_in_entry](const record_summary& s) {
    return matches(q, s)
      && (!owner_in_entry || allows(q.access, s.ns, s.resource, s.group));
  };
  const bool check_record = !q.access.everything && !owner_in_entry;
  record_filter filter;
  if (!q.path.empty() || check_record)
    filter = [&q, check_record](std::string_view json) {
      return (!check_record || record_allowed(json, q.access))
        && (q.path.empty() || changed_under(json, q.path));
    };
  // At most 8 MiB a page, like the other paged answers.
  if (auto err = collect(view, spec, q.limit, keep, page.records, page.has_more,
                         last, filter, max_page_bytes))
    return err;
  if (page.has_more)
    page.continue_token
      = encode_cursor(page_cursor{last, spec.max_seq, filters});
  return page;
}

} // namespace

caf::expected<event_page> rocks_store::query(const event_query& q) const {
  auto view = impl_->view();
  return view.vouch(query_in(view, q));
}

namespace {

caf::expected<object_history> history_in(const read_view& view,
                                         const history_query& q) {
  if (q.limit == 0)
    return caf::make_error(ec::invalid_argument, "limit",
                           "limit must be at least 1");
  if (q.start_ns > q.end_ns)
    return caf::make_error(ec::invalid_argument, "start",
                           "start lies after end");
  if (q.resource.empty() || q.name.empty())
    return caf::make_error(ec::invalid_argument, "resourceType",
                           "an object history needs a resource and a name");
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

} // namespace

caf::expected<object_history>
rocks_store::history(const history_query& q) const {
  auto view = impl_->view();
  return view.vouch(history_in(view, q));
}

} // namespace kws::storage
