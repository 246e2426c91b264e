// The walks of the window answers (snapshot, changes): the object index
// per partition in key order, and their paging. Internal to the store.
#pragma once

#include "messages/change_query.hpp"
#include "storage/store_scan.hpp"
#include "util/errors.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace kws::storage::window {

/// Records of one object a change entry reads at most.
constexpr uint32_t max_entry_records = 1000;

/// Where an object's record is, from its index entry.
struct located {
  const partition_ref* part = nullptr;
  position pos;
  record_summary summary;
};

/// An object as the `h` key names it; ordered by resource, namespace,
/// name.
struct object_key {
  std::string resource;
  std::string ns;
  std::string name;

  // clang-tidy 14 reports the literal 0 of the synthesized comparison.
  friend auto operator<=>(const object_key&, const object_key&)
    = default; // NOLINT(modernize-use-nullptr)
};

/// The key prefix of `tag` entries (`h`, `e` or `c`) under `q`'s namespace
/// and type: the namespace only when one is asked, the type only with it.
inline std::string window_prefix(const window_query& q, char tag) {
  std::string prefix(1, tag);
  if (!q.ns.empty()) {
    prefix += q.ns;
    prefix += '\0';
    if (!q.resource.empty()) {
      prefix += q.resource;
      prefix += '\0';
    }
  }
  return prefix;
}

/// An iterator over the keys of `part` under `prefix`, in key order; the
/// bound's bytes live as long as the iterator.
struct prefix_walk {
  prefix_walk(const read_view& view, const partition_ref& part,
              const std::string& prefix)
      : upper{prefix + '\xff'}, upper_slice{upper} {
    auto ro = view.options();
    // Shorter than an index prefix: the prefix filters must not apply.
    ro.total_order_seek = true;
    ro.iterate_upper_bound = &upper_slice;
    it.reset(view.db->NewIterator(ro, part.cf.get()));
    it->Seek(prefix);
  }
  // The slice points into `upper`.
  prefix_walk(const prefix_walk&) = delete;
  prefix_walk& operator=(const prefix_walk&) = delete;

  std::string upper;
  rocksdb::Slice upper_slice;
  std::unique_ptr<rocksdb::Iterator> it;
};

/// Calls `fn(key, value)` for every key of `part` under `prefix`, in key
/// order; `fn` returns an error to stop.
template <class F>
caf::error walk_prefix(const read_view& view, const partition_ref& part,
                       const std::string& prefix, F&& fn) {
  prefix_walk walk{view, part, prefix};
  auto& it = walk.it;
  for (; it->Valid(); it->Next())
    if (auto err = fn(it->key().ToStringView(), it->value().ToStringView()))
      return err;
  if (!it->status().ok())
    return to_error(it->status(), "cannot read partition " + part.name);
  return {};
}

/// Consecutive entries outside the window after which a walk seeks past
/// the rest instead of stepping over them: a seek costs about as much as
/// that many steps, and an object busy all day has thousands of entries
/// around an hour's window.
constexpr int steps_before_seek = 8;

/// Skips nothing (`walk_window`).
struct no_skip {
  std::optional<std::string> operator()(std::string_view) const { return {}; }
};

/// Where the keys (`h`, `c`) of `ns`'s Event objects end: they are one run,
/// `tag ns \0 events \0 ...`, which a change summary that does not ask for
/// Events (two thirds of a busy day's objects) seeks past.
inline std::string past_event_objects(char tag, std::string_view ns) {
  std::string out(1, tag);
  out.append(ns);
  out.push_back('\0');
  out.append("events");
  out.push_back('\x01');
  return out;
}

/// Calls `fn(part, key, value, pos)` for every key of `part` under
/// `prefix` with a timestamp in [lo, hi] and a sequence number up to
/// `max_seq`; `fn` returns an error to stop. The entry is not decoded: a
/// caller that sees many entries of one object decodes only what it needs.
/// The entries of one key prefix (an object, a type) run in time order, so
/// the walk seeks to the window's start inside one, and to the next one
/// once past the window's end.
///
/// `skip(object)`, asked once per object (its key without the position),
/// may name a key to seek to instead: past a run of objects the caller
/// leaves out.
template <class F, class Skip = no_skip>
caf::error walk_window(const read_view& view, const partition_ref& part,
                       const std::string& prefix, int64_t lo, int64_t hi,
                       uint64_t max_seq, F&& fn, Skip skip = {}) {
  if (part.min_ts > hi || part.max_ts < lo)
    return {};
  prefix_walk walk{view, part, prefix};
  auto& it = walk.it;
  std::string object;
  std::string target;
  int outside = 0;
  while (it->Valid()) {
    auto key = it->key().ToStringView();
    auto pos = key_position(key);
    if (!pos) {
      it->Next();
      continue;
    }
    auto key_object = key.substr(0, key.size() - position_bytes);
    if (key_object != object) {
      if (auto past = skip(key_object)) {
        it->Seek(*past);
        continue;
      }
      object.assign(key_object);
      outside = 0;
    }
    if (pos->ts >= lo && pos->ts <= hi) {
      outside = 0;
      if (pos->seq <= max_seq)
        if (auto err = fn(part, key, it->value().ToStringView(), *pos))
          return err;
      it->Next();
      continue;
    }
    if (++outside < steps_before_seek) {
      it->Next();
      continue;
    }
    // Both targets lie after the current key: the walk moves on.
    target = object;
    if (pos->ts < lo)
      target += encode_position({lo, 0});
    else
      target.append(position_bytes + 1, '\xff');
    outside = 0;
    it->Seek(target);
  }
  if (!it->status().ok())
    return to_error(it->status(), "cannot read partition " + part.name);
  return {};
}

/// `walk_window` of the `tag` (`h` or `e`) entries under the prefix of
/// `q`'s namespace and type.
template <class F>
caf::error walk_part_entries(const read_view& view, const partition_ref& part,
                             const window_query& q, int64_t lo, int64_t hi,
                             uint64_t max_seq, char tag, F&& fn) {
  return walk_window(view, part, window_prefix(q, tag), lo, hi, max_seq,
                     std::forward<F>(fn));
}

/// `walk_part_entries` over every partition, oldest first.
template <class F>
caf::error walk_entries(const read_view& view, const window_query& q,
                        int64_t lo, int64_t hi, uint64_t max_seq, char tag,
                        F&& fn) {
  for (const auto& part : view.parts)
    if (auto err = walk_part_entries(view, part, q, lo, hi, max_seq, tag, fn))
      return err;
  return {};
}

/// True when the decoded entry of a `tag` walk matches the filters of `q`
/// (an `e` key names the object an Event is about).
inline bool matches_window(const window_query& q, char tag,
                           const record_summary& entry) {
  const bool link = tag == static_cast<char>(index_kind::link);
  const auto& ns = link ? entry.link_ns : entry.ns;
  const auto& resource = link ? entry.link_resource : entry.resource;
  // A link entry is an Event about an object, found in the object's
  // namespace: the caller needs both. The entry names neither the Event's
  // own fields nor the object's group, so any group of the plural counts.
  const bool allowed = link
    ? allows(q.access, ns, "events", "")
      && allows_any_group(q.access, ns, resource)
    : allows(q.access, entry.ns, entry.resource, entry.group);
  return (q.ns.empty() || ns == q.ns)
    && (q.resource.empty() || resource == q.resource)
    && (q.group.empty() || link || entry.group == q.group) && allowed;
}

/// Calls `fn(entry)` for every decoded `tag` (`h` or `e`) entry with a
/// timestamp in [lo, hi] and a sequence number up to `max_seq` of the
/// objects matching the filters of `q`, partition by partition.
template <class F>
caf::error walk_objects(const read_view& view, const window_query& q,
                        int64_t lo, int64_t hi, uint64_t max_seq, char tag,
                        F&& fn) {
  return walk_entries(view, q, lo, hi, max_seq, tag,
                      [&](const partition_ref& part, std::string_view key,
                          std::string_view value, position pos) -> caf::error {
                        auto entry = decode_index_entry(key, value);
                        if (!entry)
                          return entry.error();
                        if (matches_window(q, tag, *entry))
                          fn(located{&part, pos, std::move(*entry)});
                        return {};
                      });
}

/// The opaque continue token of a window answer: the newest sequence
/// number of page one, a hash of the filters, and where the page ended.
inline std::string encode_token(uint64_t max_seq, uint64_t filters,
                                std::string_view after) {
  std::string raw;
  append_u64(raw, max_seq);
  append_u64(raw, filters);
  raw.append(after);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (char c : raw) {
    out.push_back(digits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(digits[static_cast<uint8_t>(c) & 0xf]);
  }
  return out;
}

struct token {
  uint64_t max_seq = 0;
  std::string after;
};

inline caf::expected<token> decode_token(std::string_view text,
                                         uint64_t filters) {
  auto bad = caf::make_error(ec::invalid_argument, "continue",
                             "the continue token is not one this server "
                             "gave for this query");
  if (text.size() % 2 != 0 || text.size() < 32)
    return bad;
  std::string raw;
  for (size_t i = 0; i < text.size(); i += 2) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9')
        return c - '0';
      if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
      return -1;
    };
    int hi = hex(text[i]);
    int lo = hex(text[i + 1]);
    if (hi < 0 || lo < 0)
      return bad;
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  if (read_u64(std::string_view{raw}.substr(8)) != filters)
    return bad;
  return token{read_u64(raw), raw.substr(16)};
}

inline uint64_t window_hash(const window_query& q, std::string_view kind) {
  uint64_t h = 0xcbf29ce484222325ull;
  std::string text{kind};
  append_ts(text, q.start_ns);
  append_ts(text, q.end_ns);
  for (const auto* s : {&q.ns, &q.resource, &q.group}) {
    text += *s;
    text.push_back('\0');
  }
  text.push_back(static_cast<char>(q.change_classes));
  for (char c : text) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

/// The page's starting state: the newest sequence number and the resume
/// point.
inline caf::expected<token>
start_page(const read_view& view, const window_query& q, uint64_t filters) {
  if (q.limit == 0)
    return caf::make_error(ec::invalid_argument, "limit",
                           "limit must be at least 1");
  if (!q.continue_token.empty())
    return decode_token(q.continue_token, filters);
  auto newest = newest_seq(view);
  if (!newest)
    return newest.error();
  return token{*newest, {}};
}

inline std::string sort_key(const object_key& k) {
  std::string out;
  out.reserve(k.resource.size() + k.ns.size() + k.name.size() + 2);
  out.append(k.resource).push_back('\0');
  out.append(k.ns).push_back('\0');
  out.append(k.name);
  return out;
}

} // namespace kws::storage::window
