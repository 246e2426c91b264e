#include "storage/key_codec.hpp"

#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <caf/error.hpp>

#include <cstdio>

namespace kws::storage {

void append_u64(std::string& out, uint64_t x) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((x >> shift) & 0xff));
}

void append_ts(std::string& out, int64_t ts) {
  append_u64(out, static_cast<uint64_t>(ts) ^ (uint64_t{1} << 63));
}

uint64_t read_u64(std::string_view in) {
  uint64_t x = 0;
  for (size_t i = 0; i < 8; ++i)
    x = (x << 8) | static_cast<uint8_t>(in[i]);
  return x;
}

int64_t read_ts(std::string_view in) {
  return static_cast<int64_t>(read_u64(in) ^ (uint64_t{1} << 63));
}

std::string encode_position(position pos) {
  std::string result;
  result.reserve(position_bytes);
  append_ts(result, pos.ts);
  append_u64(result, pos.seq);
  return result;
}

std::optional<position> key_position(std::string_view key) {
  if (key.size() < position_bytes)
    return std::nullopt;
  auto tail = key.substr(key.size() - position_bytes);
  return position{read_ts(tail), read_u64(tail.substr(8))};
}

std::string format_id(uint64_t seq) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(seq));
  return std::string(buf, 16);
}

namespace {

std::string day_name(char tag, int64_t day) {
  int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(day, y, m, d);
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%c%04lld%02u%02u", tag,
                        static_cast<long long>(y), m, d);
  return std::string(buf, static_cast<size_t>(n));
}

std::optional<int64_t> day_of_name(char tag, std::string_view name) {
  if (name.size() != 9 || name[0] != tag)
    return std::nullopt;
  int64_t digits[8];
  for (size_t i = 0; i < 8; ++i) {
    char c = name[i + 1];
    if (c < '0' || c > '9')
      return std::nullopt;
    digits[i] = c - '0';
  }
  int64_t y = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3];
  auto m = static_cast<unsigned>(digits[4] * 10 + digits[5]);
  auto d = static_cast<unsigned>(digits[6] * 10 + digits[7]);
  if (m < 1 || m > 12 || d < 1 || d > 31)
    return std::nullopt;
  auto day = days_from_civil(y, m, d);
  // Reject dates like 20260231 that would silently alias another day.
  if (day_name(tag, day) != name)
    return std::nullopt;
  return day;
}

} // namespace

std::string partition_name(int64_t day) {
  return day_name('p', day);
}

std::optional<int64_t> partition_day(std::string_view name) {
  return day_of_name('p', name);
}

std::string records_name(int64_t day) {
  return day_name('r', day);
}

std::optional<int64_t> records_day(std::string_view name) {
  return day_of_name('r', name);
}

record_summary summarize(const resource_event& ev, change_class cls) {
  return record_summary{
    ev.action, ev.ns,      ev.resource,      ev.group,     ev.name, ev.uid,
    ev.user,   ev.link_ns, ev.link_resource, ev.link_name, cls,     ev.warning};
}

namespace {

constexpr uint8_t summary_version = 1;

void append_varint(std::string& out, uint64_t x) {
  while (x >= 0x80) {
    out.push_back(static_cast<char>((x & 0x7f) | 0x80));
    x >>= 7;
  }
  out.push_back(static_cast<char>(x));
}

bool read_varint(std::string_view& in, uint64_t& x) {
  x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty())
      return false;
    auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    x |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0)
      return true;
  }
  return false;
}

caf::error corrupt(std::string what) {
  return caf::make_error(ec::storage_failure, std::move(what));
}

} // namespace

void append_length_prefixed(std::string& out, std::string_view s) {
  append_varint(out, s.size());
  out.append(s);
}

bool read_length_prefixed(std::string_view& in, std::string& out) {
  uint64_t n = 0;
  if (!read_varint(in, n) || n > in.size())
    return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

namespace {

constexpr uint8_t warning_bit = 0x08;

} // namespace

char encode_verb_byte(const record_summary& s) {
  return static_cast<char>(static_cast<uint8_t>(s.action)
                           | (s.warning ? warning_bit : 0)
                           | (static_cast<uint8_t>(s.cls) << 4));
}

bool decode_verb_byte(char byte, record_summary& s) {
  auto b = static_cast<uint8_t>(byte);
  auto a = static_cast<uint8_t>(b & 0x07);
  auto c = static_cast<uint8_t>(b >> 4);
  if (a > static_cast<uint8_t>(verb::remove)
      || c > static_cast<uint8_t>(change_class::event))
    return false;
  s.action = static_cast<verb>(a);
  s.warning = (b & warning_bit) != 0;
  s.cls = static_cast<change_class>(c);
  return true;
}

std::string encode_summary(const record_summary& x) {
  std::string out;
  out.reserve(64 + x.ns.size() + x.name.size() + x.uid.size() + x.user.size());
  out.push_back(static_cast<char>(summary_version));
  out.push_back(encode_verb_byte(x));
  for (auto* s : {&x.ns, &x.resource, &x.group, &x.name, &x.uid, &x.user,
                  &x.link_ns, &x.link_resource, &x.link_name})
    append_length_prefixed(out, *s);
  return out;
}

caf::expected<record_summary> decode_summary(std::string_view& in) {
  if (in.size() < 2 || static_cast<uint8_t>(in[0]) != summary_version)
    return corrupt("index entry with an unknown summary version");
  record_summary x;
  if (!decode_verb_byte(in[1], x))
    return corrupt("index entry with an unknown verb");
  in.remove_prefix(2);
  for (auto* s : {&x.ns, &x.resource, &x.group, &x.name, &x.uid, &x.user,
                  &x.link_ns, &x.link_resource, &x.link_name})
    if (!read_length_prefixed(in, *s))
      return corrupt("truncated index entry");
  return x;
}

caf::expected<std::pair<record_summary, std::string_view>>
decode_record_value(std::string_view value) {
  if (value.size() < 4)
    return corrupt("truncated record");
  uint32_t n = 0;
  for (size_t i = 0; i < 4; ++i)
    n = (n << 8) | static_cast<uint8_t>(value[i]);
  value.remove_prefix(4);
  if (n > value.size())
    return corrupt("truncated record summary");
  auto summary_bytes = value.substr(0, n);
  auto summary = decode_summary(summary_bytes);
  if (!summary)
    return summary.error();
  return std::pair{std::move(*summary), value.substr(n)};
}

caf::expected<record_value_parts>
encode_record_value(const record_summary& s, std::string_view id,
                    std::string_view record_json) {
  auto is_space
    = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t first = 0;
  while (first < record_json.size() && is_space(record_json[first]))
    ++first;
  if (first == record_json.size() || record_json[first] != '{')
    return caf::make_error(ec::invalid_argument,
                           "a record must be a JSON object");
  size_t next = first + 1;
  while (next < record_json.size() && is_space(record_json[next]))
    ++next;
  auto summary = encode_summary(s);
  record_value_parts out;
  out.head.reserve(4 + summary.size() + id.size() + 9);
  auto n = static_cast<uint32_t>(summary.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.head.push_back(static_cast<char>((n >> shift) & 0xff));
  out.head += summary;
  out.head += "{\"id\":\"";
  out.head.append(id);
  out.head += '"';
  // An empty object gets no separating comma.
  if (next < record_json.size() && record_json[next] != '}')
    out.head += ',';
  out.tail = record_json.substr(first + 1);
  return out;
}

std::string index_prefix(index_kind kind,
                         std::initializer_list<std::string_view> parts) {
  std::string result;
  result.push_back(static_cast<char>(kind));
  for (auto part : parts) {
    result.append(part);
    result.push_back('\0');
  }
  return result;
}

std::optional<size_t> index_prefix_size(std::string_view key) {
  if (key.empty())
    return std::nullopt;
  size_t components = 0;
  switch (static_cast<index_kind>(key[0])) {
    case index_kind::time: return 1;
    case index_kind::uid:
    case index_kind::name:
    case index_kind::user:
    case index_kind::resource:
    case index_kind::ns:
    case index_kind::id: components = 1; break;
    case index_kind::ns_resource: components = 2; break;
    case index_kind::object:
    case index_kind::link:
    case index_kind::tally: components = 3; break;
    default: return std::nullopt;
  }
  size_t end = 1;
  for (size_t i = 0; i < components; ++i) {
    auto nul = key.find('\0', end);
    if (nul == std::string_view::npos)
      return std::nullopt;
    end = nul + 1;
  }
  return end;
}

std::vector<std::string> index_keys(const record_summary& s, position pos) {
  auto suffix = encode_position(pos);
  std::vector<std::string> keys;
  keys.reserve(9);
  keys.push_back(index_prefix(index_kind::time, {}) + suffix);
  if (!s.uid.empty())
    keys.push_back(index_prefix(index_kind::uid, {s.uid}) + suffix);
  keys.push_back(index_prefix(index_kind::object, {s.ns, s.resource, s.name})
                 + suffix);
  keys.push_back(index_prefix(index_kind::name, {s.name}) + suffix);
  // A query's empty field means "any", so no walk reads the run of an
  // empty user, nor the namespace runs of a cluster-scoped type.
  if (!s.user.empty())
    keys.push_back(index_prefix(index_kind::user, {s.user}) + suffix);
  if (!s.ns.empty())
    keys.push_back(index_prefix(index_kind::ns_resource, {s.ns, s.resource})
                   + suffix);
  keys.push_back(index_prefix(index_kind::resource, {s.resource}) + suffix);
  // No `n` entry: a namespace's records are its types' `m` runs, merged
  // (`plan_query`). Partitions written before keep theirs, unread, until
  // retention drops them.
  if (!s.link_resource.empty() && !s.link_name.empty())
    keys.push_back(
      index_prefix(index_kind::link, {s.link_ns, s.link_resource, s.link_name})
      + suffix);
  keys.push_back(index_prefix(index_kind::id, {format_id(pos.seq)}) + suffix);
  return keys;
}

query_plan plan_query(const event_query& q) {
  if (!q.uid.empty())
    return {index_kind::uid, index_prefix(index_kind::uid, {q.uid})};
  // The object index needs the namespace: "" in a query means "any", so a
  // name without namespace falls back to the name index.
  if (!q.ns.empty() && !q.resource.empty() && !q.name.empty())
    return {index_kind::object,
            index_prefix(index_kind::object, {q.ns, q.resource, q.name})};
  if (!q.name.empty())
    return {index_kind::name, index_prefix(index_kind::name, {q.name})};
  if (!q.user.empty())
    return {index_kind::user, index_prefix(index_kind::user, {q.user})};
  if (!q.ns.empty() && !q.resource.empty())
    return {index_kind::ns_resource,
            index_prefix(index_kind::ns_resource, {q.ns, q.resource})};
  if (!q.resource.empty())
    return {index_kind::resource,
            index_prefix(index_kind::resource, {q.resource})};
  // The runs of the namespace's types under this prefix, merged.
  if (!q.ns.empty())
    return {index_kind::ns, index_prefix(index_kind::ns_resource, {q.ns})};
  return {index_kind::time, index_prefix(index_kind::time, {})};
}

bool matches(const event_query& q, const record_summary& s) {
  return (q.ns.empty() || q.ns == s.ns)
    && (q.resource.empty() || q.resource == s.resource)
    && (q.group.empty() || q.group == s.group)
    && (q.name.empty() || q.name == s.name)
    && (q.verb.empty() || q.verb == to_string(s.action))
    && (q.user.empty() || q.user == s.user) && (q.uid.empty() || q.uid == s.uid)
    && (q.change_classes == 0
        || (q.change_classes & (1u << static_cast<uint8_t>(s.cls))) != 0)
    // Only updates change paths.
    && (q.path.empty() || s.action == verb::update);
}

namespace {

constexpr uint8_t cursor_version = 1;
constexpr size_t cursor_bytes = 1 + 8 + 8 + 8 + 8;

void fnv(uint64_t& h, std::string_view s) {
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  // A separator keeps ("ab", "c") and ("a", "bc") apart.
  h ^= 0xff;
  h *= 0x100000001b3ull;
}

caf::error bad_token(std::string_view why) {
  return caf::make_error(ec::invalid_argument, "continue", std::string{why});
}

} // namespace

uint64_t filter_hash(const event_query& q) {
  uint64_t h = 0xcbf29ce484222325ull;
  std::string bounds;
  append_ts(bounds, q.start_ns);
  append_ts(bounds, q.end_ns);
  fnv(h, bounds);
  for (auto* s :
       {&q.ns, &q.resource, &q.group, &q.name, &q.verb, &q.user, &q.uid})
    fnv(h, *s);
  fnv(h, q.descending ? "desc" : "asc");
  // Only when set, so tokens of queries without them stay as they were.
  if (q.change_classes != 0)
    fnv(h, "class:" + std::to_string(q.change_classes));
  if (!q.path.empty())
    fnv(h, "path:" + q.path);
  return h;
}

std::string encode_cursor(const page_cursor& c) {
  std::string raw;
  raw.push_back(static_cast<char>(cursor_version));
  append_ts(raw, c.last.ts);
  append_u64(raw, c.last.seq);
  append_u64(raw, c.max_seq);
  append_u64(raw, c.filters);
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  result.reserve(raw.size() * 2);
  for (char ch : raw) {
    auto byte = static_cast<uint8_t>(ch);
    result.push_back(digits[byte >> 4]);
    result.push_back(digits[byte & 0xf]);
  }
  return result;
}

caf::expected<page_cursor> decode_cursor(std::string_view token) {
  if (token.size() != cursor_bytes * 2)
    return bad_token("the continue token is malformed");
  std::string raw;
  raw.reserve(cursor_bytes);
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < token.size(); i += 2) {
    int hi = hex(token[i]);
    int lo = hex(token[i + 1]);
    if (hi < 0 || lo < 0)
      return bad_token("the continue token is malformed");
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  if (static_cast<uint8_t>(raw[0]) != cursor_version)
    return bad_token("the continue token is malformed");
  std::string_view in{raw};
  in.remove_prefix(1);
  page_cursor c;
  c.last.ts = read_ts(in);
  c.last.seq = read_u64(in.substr(8));
  c.max_seq = read_u64(in.substr(16));
  c.filters = read_u64(in.substr(24));
  if (c.last.seq == 0 || c.last.seq > c.max_seq)
    return bad_token("the continue token is malformed");
  return c;
}

} // namespace kws::storage
