#include "storage/window_tally.hpp"

#include "storage/change_tally.hpp"
#include "storage/index_entry.hpp"
#include "storage/store_impl.hpp"
#include "util/errors.hpp"

#include <rocksdb/db.h>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace kws::storage::window {

namespace {

/// Counts one record of `c`.
void count(object_changes& c, const record_summary& s, position pos) {
  switch (s.action) {
    case verb::create: ++c.creates; break;
    case verb::update: ++c.updates; break;
    case verb::remove: ++c.deletes; break;
  }
  c.classes |= static_cast<uint8_t>(1u << static_cast<uint8_t>(s.cls));
  c.last = std::max(c.last, pos);
}

/// Hashes an object's index prefix, looked up by view while walking.
struct prefix_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>{}(s);
  }
};

constexpr size_t skipped = static_cast<size_t>(-1);

/// The tally's objects (those that pass the query's filters) and where
/// each is, by its object index prefix. An object that does not pass gets
/// no place: its key or entry is judged again, so that the Events of a busy
/// day (one object each, left out unless asked for) cost nothing kept.
/// The first partition read in key order meets each of its objects once:
/// they are appended without a lookup, and indexed only when a later
/// partition or an Event needs to find them, so that a window of one day
/// hashes none of them.
class tally_places {
public:
  explicit tally_places(std::vector<object_changes>& out) : out_(out) {}

  /// Starts a partition read in key order, which meets each object in one
  /// run of adjacent keys.
  void start_key_order() {
    appending_ = out_.empty();
    if (!appending_)
      index_all();
  }

  /// Starts a partition read in another order.
  void start_any_order() {
    appending_ = false;
    index_all();
  }

  /// The object's place: its own, a new one when it passes the filters
  /// (`keep` gives its key), or `skipped`.
  template <class Keep>
  size_t place_of(std::string_view prefix, Keep&& keep) {
    if (!appending_)
      if (auto it = where_.find(prefix); it != where_.end())
        return it->second;
    auto key = keep();
    if (!key)
      return skipped;
    if (!appending_)
      where_.emplace(std::string{prefix}, out_.size());
    out_.emplace_back();
    out_.back().key = std::move(*key);
    if (!appending_)
      indexed_ = out_.size();
    return out_.size() - 1;
  }

  /// The place of an object already in the tally, or `skipped`.
  size_t find(std::string_view prefix) {
    index_all();
    auto it = where_.find(prefix);
    return it == where_.end() ? skipped : it->second;
  }

  object_changes& operator[](size_t n) { return out_[n]; }

private:
  void index_all() {
    for (; indexed_ < out_.size(); ++indexed_) {
      const auto& k = out_[indexed_].key;
      where_.emplace(
        index_prefix(index_kind::object, {k.ns, k.resource, k.name}), indexed_);
    }
  }

  std::vector<object_changes>& out_;
  std::unordered_map<std::string, size_t, prefix_hash, std::equal_to<>> where_;
  /// `out_[0, indexed_)` are in `where_`.
  size_t indexed_ = 0;
  bool appending_ = false;
};

/// The place of the object a walk in key order is at: the entries of one
/// object are adjacent there, so only the first of them is looked up.
struct walk_cursor {
  /// Empty before the first entry: a key prefix starts with its tag.
  std::string prefix;
  size_t place = skipped;

  /// True when `key_prefix` is the object of the entry before it.
  bool same(std::string_view key_prefix) const { return key_prefix == prefix; }
  void set(std::string_view key_prefix, size_t n) {
    prefix.assign(key_prefix);
    place = n;
  }
};

/// True when `part`'s tallies answer for it: it has them, every record of
/// it lies in the window, and no `group` is asked (a tally does not hold
/// it). The view's bounds are at least those of its snapshot.
bool tallies_answer(const partition_ref& part, const window_query& q) {
  return part.tallied && q.group.empty() && part.min_ts >= q.start_ns
    && part.max_ts <= q.end_ns;
}

/// The objects (by object index prefix) whose tallies in `part` count
/// records newer than `max_seq`, a later page's snapshot: those a newer
/// record is about, by its own name or as an Event's object. Found by the
/// `i` keys, which run in id (sequence) order.
caf::expected<std::unordered_set<std::string>>
touched_after(const read_view& view, const partition_ref& part,
              uint64_t max_seq) {
  std::unordered_set<std::string> out;
  constexpr auto id_tag = static_cast<char>(index_kind::id);
  auto ro = view.options();
  ro.total_order_seek = true;
  const std::string upper(1, static_cast<char>(id_tag + 1));
  rocksdb::Slice upper_slice{upper};
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{
    view.db->NewIterator(ro, part.cf.get())};
  for (it->Seek(std::string(1, id_tag) + format_id(max_seq + 1)); it->Valid();
       it->Next()) {
    auto pos = key_position(it->key().ToStringView());
    if (!pos)
      continue;
    std::string value;
    auto key = std::string(1, static_cast<char>(index_kind::time))
      + encode_position(*pos);
    auto st = view.db->Get(view.options(), part.records.get(), key, &value);
    if (!st.ok())
      return to_error(st, "cannot read a record of partition " + part.name);
    auto record = decode_record_value(value);
    if (!record)
      return record.error();
    const auto& s = record->first;
    out.insert(index_prefix(index_kind::object, {s.ns, s.resource, s.name}));
    if (!s.link_resource.empty() && !s.link_name.empty())
      out.insert(index_prefix(index_kind::object,
                              {s.link_ns, s.link_resource, s.link_name}));
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot read ids of " + part.name);
  return out;
}

/// Counts one object of `part` from its own object and link entries up to
/// `max_seq` (all in the window: the partition is).
caf::error recount(const read_view& view, const partition_ref& part,
                   std::string_view object_prefix, uint64_t max_seq,
                   object_changes& c) {
  std::string prefix{object_prefix};
  for (auto tag : {index_kind::object, index_kind::link}) {
    prefix[0] = static_cast<char>(tag);
    auto err = walk_prefix(
      view, part, prefix,
      [&](std::string_view key, std::string_view value) -> caf::error {
        auto pos = key_position(key);
        if (!pos || key.size() != prefix.size() + position_bytes
            || pos->seq > max_seq)
          return {};
        record_summary s;
        if (value.size() < 2 || !decode_verb_byte(value[1], s))
          return caf::make_error(ec::storage_failure,
                                 "index entry with an unknown verb");
        if (tag == index_kind::object)
          count(c, s, *pos);
        else
          ++(s.warning ? c.warnings : c.normals);
        return {};
      });
    if (err)
      return err;
  }
  return {};
}

/// Adds `part`'s tallies of the objects matching `q`: every record of the
/// partition and the Events about them. An object a record newer than
/// `max_seq` touched is counted from its entries instead.
caf::error read_tallies(const read_view& view, const partition_ref& part,
                        const window_query& q, uint64_t max_seq,
                        tally_places& places) {
  auto stale = touched_after(view, part, max_seq);
  if (!stale)
    return stale.error();
  places.start_key_order();
  const bool events_asked = q.resource == "events";
  constexpr auto tag = static_cast<char>(index_kind::tally);
  std::string prefix;
  prefix_walk walk{view, part, window_prefix(q, tag)};
  auto& it = walk.it;
  while (it->Valid()) {
    auto key = it->key().ToStringView();
    auto object = decode_tally_key(key);
    auto t = decode_tally(it->value().ToStringView());
    if (!object || !t)
      return caf::make_error(ec::storage_failure,
                             "undecodable tally in " + part.name);
    if (object->resource == "events" && !events_asked) {
      it->Seek(past_event_objects(tag, object->ns));
      continue;
    }
    // A tally names no group (nor does /changes' object key).
    if ((!q.ns.empty() && object->ns != q.ns)
        || (!q.resource.empty() && object->resource != q.resource)
        || !allows_any_group(q.access, object->ns, object->resource)) {
      it->Next();
      continue;
    }
    prefix = key;
    prefix[0] = static_cast<char>(index_kind::object);
    auto n = places.place_of(prefix, [&]() -> std::optional<object_key> {
      return object_key{std::string{object->resource}, std::string{object->ns},
                        std::string{object->name}};
    });
    auto& c = places[n];
    if (stale->contains(prefix)) {
      if (auto err = recount(view, part, prefix, max_seq, c))
        return err;
    } else {
      c.creates += t->creates;
      c.updates += t->updates;
      c.deletes += t->deletes;
      c.classes |= t->classes;
      c.last = std::max(c.last, t->last);
      c.warnings += t->warnings;
      c.normals += t->normals;
    }
    it->Next();
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot read partition " + part.name);
  return {};
}

/// Adds `part`'s object index entries in the window. A busy window holds
/// many records of each object, adjacent in the walk: only an object's
/// first entry is decoded in full (its name, the filters); the others are
/// read for their verb byte alone. With a `group` filter, which an entry's
/// value holds, every entry is decoded.
caf::error tally_entries(const read_view& view, const partition_ref& part,
                         const window_query& q, uint64_t max_seq,
                         tally_places& places) {
  // Event objects are counted for the object they are about, unless asked
  // for by type.
  const bool events_asked = q.resource == "events";
  const bool decode_each = !q.group.empty();
  constexpr auto tag = static_cast<char>(index_kind::object);
  walk_cursor at;
  if (decode_each)
    places.start_any_order();
  else
    places.start_key_order();
  auto past_events
    = [&](std::string_view object) -> std::optional<std::string> {
    // `h ns \0 resource \0 name \0`.
    auto ns_end = object.find('\0', 1);
    if (events_asked || ns_end == std::string_view::npos
        || object.substr(ns_end + 1, 7) != std::string_view{"events\0", 7})
      return std::nullopt;
    return past_event_objects(tag, object.substr(1, ns_end - 1));
  };
  return walk_window(
    view, part, window_prefix(q, tag), q.start_ns, q.end_ns, max_seq,
    [&](const partition_ref&, std::string_view key, std::string_view value,
        position pos) -> caf::error {
      auto prefix = key.substr(0, key.size() - position_bytes);
      if (at.same(prefix) && !decode_each) {
        record_summary s;
        if (value.size() < 2 || !decode_verb_byte(value[1], s))
          return caf::make_error(ec::storage_failure,
                                 "index entry with an unknown verb");
        if (at.place != skipped)
          count(places[at.place], s, pos);
        return {};
      }
      auto entry = decode_index_entry(key, value);
      if (!entry)
        return entry.error();
      auto n = places.place_of(prefix, [&]() -> std::optional<object_key> {
        if (!matches_window(q, tag, *entry)
            || (entry->resource == "events" && !events_asked))
          return std::nullopt;
        return object_key{entry->resource, entry->ns, entry->name};
      });
      // With a `group` filter, entries of one prefix may differ in it.
      if (decode_each && n != skipped && !matches_window(q, tag, *entry))
        return {};
      if (!decode_each)
        at.set(prefix, n);
      if (n != skipped)
        count(places[n], *entry, pos);
      return {};
    },
    past_events);
}

/// Counts the Kubernetes Events about each tallied object in `part`. A
/// link key names the object by the same components, in the same order, as
/// its object index key: the object is found by that prefix, and the entry
/// is read for its verb byte (the Warning bit) alone.
caf::error tally_events(const read_view& view, const partition_ref& part,
                        const window_query& q, uint64_t max_seq,
                        tally_places& places) {
  std::string probe;
  walk_cursor at;
  return walk_part_entries(
    view, part, q, q.start_ns, q.end_ns, max_seq,
    static_cast<char>(index_kind::link),
    [&](const partition_ref&, std::string_view key, std::string_view value,
        position) -> caf::error {
      probe.assign(key.substr(0, key.size() - position_bytes));
      probe[0] = static_cast<char>(index_kind::object);
      if (!at.same(probe))
        at.set(probe, places.find(probe));
      if (at.place == skipped)
        return {};
      record_summary s;
      if (value.size() < 2 || !decode_verb_byte(value[1], s))
        return caf::make_error(ec::storage_failure,
                               "index entry with an unknown verb");
      auto& c = places[at.place];
      ++(s.warning ? c.warnings : c.normals);
      return {};
    });
}

/// An Event about an object, found in a partition read record by record:
/// counted once every object has its place.
struct pending_link {
  std::string object_prefix;
  bool warning = false;
};

/// Counts one record's summary `s` at `pos`: for its own object, and for
/// the object an Event is about once every object has its place.
void count_summary(const window_query& q, const record_summary& s, position pos,
                   tally_places& places, std::vector<pending_link>& links,
                   bool own_object = true) {
  const bool events_asked = q.resource == "events";
  constexpr auto object_tag = static_cast<char>(index_kind::object);
  if (!s.link_resource.empty() && !s.link_name.empty())
    links.push_back({index_prefix(index_kind::object,
                                  {s.link_ns, s.link_resource, s.link_name}),
                     s.warning});
  if (!own_object)
    return;
  auto n = places.place_of(
    index_prefix(index_kind::object, {s.ns, s.resource, s.name}),
    [&]() -> std::optional<object_key> {
      if (!matches_window(q, object_tag, s)
          || (s.resource == "events" && !events_asked))
        return std::nullopt;
      return object_key{s.resource, s.ns, s.name};
    });
  if (n != skipped)
    count(places[n], s, pos);
}

/// Adds `part`'s records in the window, read in time order from its records
/// family: each record's summary names its object and the object an Event
/// is about.
caf::error tally_records(const read_view& view, const partition_ref& part,
                         const window_query& q, uint64_t max_seq,
                         tally_places& places,
                         std::vector<pending_link>& links) {
  places.start_any_order();
  constexpr auto time_tag = static_cast<char>(index_kind::time);
  auto lower = std::string(1, time_tag) + encode_position({q.start_ns, 0});
  auto upper
    = std::string(1, time_tag) + encode_position({q.end_ns, UINT64_MAX});
  auto ro = view.options();
  rocksdb::Slice upper_slice{upper};
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{
    view.db->NewIterator(ro, part.records.get())};
  for (it->Seek(lower); it->Valid(); it->Next()) {
    auto key = it->key().ToStringView();
    auto pos = key_position(key);
    if (key.size() != 1 + position_bytes || !pos || pos->seq > max_seq)
      continue;
    auto record = decode_record_value(it->value().ToStringView());
    if (!record)
      return record.error();
    count_summary(q, record->first, *pos, places, links);
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot read records of " + part.name);
  return {};
}

/// True when `part`'s `t` entries answer for the window: they name each
/// record's object, and no namespace is asked (whose `h` prefix confines a
/// walk better).
bool types_answer(const partition_ref& part, const window_query& q) {
  return part.typed && q.ns.empty();
}

/// Adds `part`'s records in the window from its `t` entries, type by type
/// in time order: an hour of a busy day reads that hour's entries, where
/// the object index holds them among the whole day's. Event records are
/// read too, for the objects they are about.
caf::error tally_types(const read_view& view, const partition_ref& part,
                       const window_query& q, uint64_t max_seq,
                       tally_places& places, std::vector<pending_link>& links) {
  places.start_any_order();
  const std::string tag(1, static_cast<char>(index_kind::resource));
  std::vector<std::string> prefixes;
  if (q.resource.empty()) {
    prefixes.push_back(tag);
  } else {
    prefixes.push_back(index_prefix(index_kind::resource, {q.resource}));
    if (q.resource != "events")
      prefixes.push_back(index_prefix(index_kind::resource, {"events"}));
  }
  for (const auto& prefix : prefixes) {
    auto err = walk_window(
      view, part, prefix, q.start_ns, q.end_ns, max_seq,
      [&](const partition_ref&, std::string_view key, std::string_view value,
          position pos) -> caf::error {
        auto s = decode_index_entry(key, value);
        if (!s)
          return s.error();
        // Of the Events walked for another type, only what they are about.
        count_summary(q, *s, pos, places, links,
                      q.resource.empty() || s->resource == q.resource);
        return {};
      });
    if (err)
      return err;
  }
  return {};
}

/// Approximate bytes of `family` in [lower, upper), memtables included.
uint64_t approximate_bytes(const read_view& view,
                           rocksdb::ColumnFamilyHandle* family,
                           const std::string& lower, const std::string& upper) {
  rocksdb::SizeApproximationOptions options;
  options.include_memtables = true;
  options.include_files = true;
  rocksdb::Range range{lower, upper};
  uint64_t bytes = 0;
  if (!view.db->GetApproximateSizes(options, family, &range, 1, &bytes).ok())
    return UINT64_MAX;
  return bytes;
}

/// True when reading `part`'s records in the window reads fewer bytes than
/// walking its object and link entries under `q`'s prefix: a window that
/// takes a sliver of the partition (the hour before midnight of a day
/// whose partition starts a moment earlier, the last minutes of today).
bool records_are_fewer(const read_view& view, const partition_ref& part,
                       const window_query& q) {
  constexpr auto time_tag = static_cast<char>(index_kind::time);
  auto records = approximate_bytes(
    view, part.records.get(),
    std::string(1, time_tag) + encode_position({q.start_ns, 0}),
    std::string(1, time_tag) + encode_position({q.end_ns, UINT64_MAX}));
  uint64_t entries = 0;
  for (auto tag : {index_kind::object, index_kind::link}) {
    auto prefix = window_prefix(q, static_cast<char>(tag));
    entries += approximate_bytes(view, part.cf.get(), prefix, prefix + '\xff');
  }
  return records < entries;
}

} // namespace

caf::error tally_window(const read_view& view, const window_query& q,
                        uint64_t max_seq, std::vector<object_changes>& out) {
  tally_places places{out};
  std::vector<const partition_ref*> walked;
  std::vector<pending_link> links;
  for (const auto& part : view.parts) {
    if (part.min_ts > q.end_ns || part.max_ts < q.start_ns)
      continue;
    caf::error err;
    if (tallies_answer(part, q)) {
      err = read_tallies(view, part, q, max_seq, places);
    } else if (types_answer(part, q)) {
      err = tally_types(view, part, q, max_seq, places, links);
    } else if (records_are_fewer(view, part, q)) {
      err = tally_records(view, part, q, max_seq, places, links);
    } else {
      err = tally_entries(view, part, q, max_seq, places);
      walked.push_back(&part);
    }
    if (err)
      return err;
  }
  for (const auto* part : walked)
    if (auto err = tally_events(view, *part, q, max_seq, places))
      return err;
  for (const auto& link : links)
    if (auto n = places.find(link.object_prefix); n != skipped)
      ++(link.warning ? places[n].warnings : places[n].normals);
  return {};
}

} // namespace kws::storage::window
