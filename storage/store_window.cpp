// Answers over a time window of many objects: the snapshot at a moment and
// the change summary of a window. Both walk the object index (`h`), whose
// keys name each object, per partition and in key order rather than merged
// by time: they aggregate per object, so order does not matter, and one
// walk serves any namespace and resource filter.
#include "storage/store_window.hpp"

#include "storage/rocks_store.hpp"

#include <map>

namespace kws::storage {

using namespace window;

namespace {

caf::expected<json_answer> snapshot_in(const read_view& view,
                                       const snapshot_query& sq) {
  const auto& q = sq.window;
  auto filters = window_hash(q, "snapshot");
  auto page = start_page(view, q, filters);
  if (!page)
    return page.error();
  // The newest record of each object at `end_ns`.
  std::map<object_key, located> newest;
  auto err = walk_objects(
    view, q, min_time_ns, q.end_ns, page->max_seq, 'h', [&](located x) {
      object_key k{x.summary.resource, x.summary.ns, x.summary.name};
      auto it = newest.find(k);
      if (it == newest.end())
        newest.emplace(std::move(k), std::move(x));
      else if (it->second.pos < x.pos)
        it->second = std::move(x);
    });
  if (err)
    return err;
  json_answer result;
  result.paged = true;
  std::vector<hit> hits;
  std::vector<std::string> keys;
  for (const auto& [k, x] : newest) {
    if (x.summary.action == verb::remove)
      continue;
    auto key = sort_key(k);
    if (!page->after.empty() && key <= page->after)
      continue;
    if (hits.size() >= q.limit) {
      result.has_more = true;
      break;
    }
    hits.push_back(hit{x.part, x.pos});
    keys.push_back(std::move(key));
  }
  std::vector<std::string> records;
  if (auto read = fetch_records(view, hits, records))
    return read;
  result.body.push_back('[');
  size_t bytes = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0 && bytes + records[i].size() > max_page_bytes) {
      result.has_more = true;
      break;
    }
    if (i > 0)
      result.body += ',';
    result.body += records[i];
    bytes += records[i].size();
    ++result.count;
  }
  result.body += ']';
  // The next page resumes after the last object this one holds.
  if (result.has_more && result.count > 0)
    result.continue_token
      = encode_token(page->max_seq, filters, keys[result.count - 1]);
  return result;
}

} // namespace

caf::expected<json_answer>
rocks_store::snapshot(const snapshot_query& sq) const {
  auto view = impl_->view();
  return view.vouch(snapshot_in(view, sq));
}

} // namespace kws::storage
