// Byte layout of every RocksDB key and value of the store (see README.md),
// the query planner that picks an index for a query, and the continue token.
// Pure functions: no RocksDB types, unit-tested on their own.
#pragma once

#include "messages/query.hpp"
#include "messages/resource_event.hpp"
#include "storage/change_class.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws::storage {

/// Bytes of the `ts | seq` suffix that ends every partition key.
constexpr size_t position_bytes = 16;

/// Appends `x` as 8 big-endian bytes (bytewise order = numeric order).
void append_u64(std::string& out, uint64_t x);

/// Appends `ts` as 8 big-endian bytes with the sign bit flipped, so negative
/// times sort before positive ones.
void append_ts(std::string& out, int64_t ts);

/// Reads 8 big-endian bytes. @pre `in.size() >= 8`.
uint64_t read_u64(std::string_view in);

/// Reverses `append_ts`. @pre `in.size() >= 8`.
int64_t read_ts(std::string_view in);

/// A record's place in the global order: timestamp, then sequence number.
struct position {
  int64_t ts = 0;
  uint64_t seq = 0;

  // clang-tidy 14 reports the literal 0 of the synthesized comparison.
  friend auto operator<=>(const position&, const position&)
    = default; // NOLINT(modernize-use-nullptr)
};

/// The 16-byte `ts | seq` suffix.
std::string encode_position(position pos);

/// Reads the `ts | seq` suffix of a partition key; `nullopt` when the key
/// is shorter than `position_bytes`.
std::optional<position> key_position(std::string_view key);

/// The record id served as `id`: 16 lowercase hex digits of the sequence
/// number, so comparing ids as strings orders them like sequence numbers.
std::string format_id(uint64_t seq);

/// Column-family name of the partition holding day `day` (days since the
/// epoch, UTC), e.g. "p20261126".
std::string partition_name(int64_t day);

/// Day index of a partition name; `nullopt` for any other name.
std::optional<int64_t> partition_day(std::string_view name);

/// Column-family name of the records of day `day`'s partition, e.g.
/// "r20261126". Stores written before records had their own column family
/// keep them in the partition's.
std::string records_name(int64_t day);

/// Day index of a records column family's name; `nullopt` for any other.
std::optional<int64_t> records_day(std::string_view name);

/// Key spaces inside a partition, told apart by the first key byte. The
/// value of every key but `r` is an index entry (`encode_index_value`).
enum class index_kind : char {
  /// `r | ts | seq` → summary + record JSON (the primary copy), in the
  /// partition's records column family.
  time = 'r',
  /// `u | uid \0 | ts | seq`.
  uid = 'u',
  /// `h | ns \0 resource \0 name \0 | ts | seq` (object history).
  object = 'h',
  /// `o | name \0 | ts | seq`.
  name = 'o',
  /// `w | user \0 | ts | seq`.
  user = 'w',
  /// `m | ns \0 resource \0 | ts | seq`.
  ns_resource = 'm',
  /// `t | resource \0 | ts | seq`.
  resource = 't',
  /// `n | ns \0 | ts | seq`; written no more (`plan_query`).
  ns = 'n',
  /// `e | link ns \0 link resource \0 link name \0 | ts | seq`: the Event
  /// records about that object.
  link = 'e',
  /// `i | id \0 | ts | seq`: finds a record by its id alone.
  id = 'i',
  /// `c | ns \0 resource \0 name \0` (no position): the object's records
  /// and Events in the partition, merged at ingest (`change_tally.hpp`).
  tally = 'c',
};

/// The filterable fields of one record, stored with the record and, as far
/// as a walk of it reads them, with each index entry (index_entry.hpp), so
/// filters are evaluated without reading or parsing the record JSON.
struct record_summary {
  verb action = verb::create;
  std::string ns;
  std::string resource;
  std::string group;
  std::string name;
  std::string uid;
  std::string user;
  std::string link_ns;
  std::string link_resource;
  std::string link_name;
  /// `unknown` for records stored before classes existed. Shares the verb's
  /// byte (high nibble), so older summaries and entries read unchanged.
  change_class cls = change_class::unknown;
  /// For Event objects: the Event is a Warning (bit 3 of the verb byte), so
  /// Warnings are counted from index entries alone.
  bool warning = false;

  friend bool operator==(const record_summary&, const record_summary&)
    = default;
};

/// Appends `s` with its length in front (a varint).
void append_length_prefixed(std::string& out, std::string_view s);

/// Reads what `append_length_prefixed` wrote from the front of `in` into
/// `out` and advances `in`; false when `in` is truncated.
bool read_length_prefixed(std::string_view& in, std::string& out);

/// Builds the summary of an event of class `cls`.
record_summary summarize(const resource_event& ev,
                         change_class cls = change_class::unknown);

/// The byte holding a verb (bits 0-1), the warning flag (bit 3) and a
/// change class (high nibble) of `s`.
char encode_verb_byte(const record_summary& s);

/// Reverses `encode_verb_byte` into `s`; false for an unknown verb or
/// class.
bool decode_verb_byte(char byte, record_summary& s);

/// Serializes a summary (version byte, verb byte, length-prefixed strings).
std::string encode_summary(const record_summary& x);

/// Parses a summary from the front of `in` and advances `in` past it.
caf::expected<record_summary> decode_summary(std::string_view& in);

/// The value stored under the `r` key, in two parts that are written one
/// after the other, so that a record's bytes are copied once, into the
/// write batch: `head` is the summary's length (4 bytes), the summary and
/// the record's opening `{"id":"<id>"` with its comma; `tail` is the rest of
/// the record JSON, after its own opening brace.
struct record_value_parts {
  std::string head;
  std::string_view tail;
};

/// The `r` value of `record_json` with `id` spliced in as its first member.
/// Fails with `ec::invalid_argument` when `record_json` is no object.
caf::expected<record_value_parts>
encode_record_value(const record_summary& s, std::string_view id,
                    std::string_view record_json);

/// Splits an `r` value into its summary and record JSON.
caf::expected<std::pair<record_summary, std::string_view>>
decode_record_value(std::string_view value);

/// Prefix of the index entries of `kind` for the given components (as many
/// as the kind has, in the order documented at `index_kind`).
std::string index_prefix(index_kind kind,
                         std::initializer_list<std::string_view> parts);

/// Length of the prefix of `key` that `index_prefix` builds: its tag and its
/// kind's components, each ended by `\0`; 1 for an `r` key. `nullopt` when
/// the first byte is no index kind or a component is unterminated. Every
/// walk of the store stays inside one such prefix.
std::optional<size_t> index_prefix_size(std::string_view key);

/// The keys (without values) a record with summary `s` at `pos` has in its
/// partition, the `r` key first.
std::vector<std::string> index_keys(const record_summary& s, position pos);

/// The index a query walks and the key prefix it walks under.
struct query_plan {
  index_kind kind = index_kind::time;
  std::string prefix;

  friend bool operator==(const query_plan&, const query_plan&) = default;
};

/// Picks the most selective index whose key fixes filters of `q`:
/// uid, then namespace+resource+name, name, user, namespace+resource,
/// resource, namespace, and the time index when nothing is filtered. Every
/// filter is still checked against each entry's summary. A namespace alone
/// is walked as the runs of its types in the namespace+resource index,
/// merged (`scan_spec::each_run`): its prefix is that index's.
query_plan plan_query(const event_query& q);

/// True when a record with summary `s` passes the non-time filters of `q`.
bool matches(const event_query& q, const record_summary& s);

/// Where a page ended, carried in the continue token.
struct page_cursor {
  /// The last record returned.
  position last;
  /// The largest sequence number visible when page one was read: later
  /// pages skip newer records, so pagination walks one fixed set.
  uint64_t max_seq = 0;
  /// `filter_hash` of the query that produced the page.
  uint64_t filters = 0;
};

/// Hash of everything in `q` that selects or orders records (not `limit`
/// and not the token), so a token is only accepted with the same filters.
uint64_t filter_hash(const event_query& q);

/// Encodes a cursor as an opaque URL-safe token.
std::string encode_cursor(const page_cursor& c);

/// Decodes a token; fails with `ec::invalid_argument` naming "continue".
caf::expected<page_cursor> decode_cursor(std::string_view token);

} // namespace kws::storage
