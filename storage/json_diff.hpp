// Structural diff of two JSON values as an RFC 6902 JSON Patch, plus the
// JSON Pointer (RFC 6901) helpers the change summaries and field-ownership
// lookups share. Pure functions over RapidJSON values: no I/O, no actors.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kws::storage {

/// Escapes one reference token for a JSON Pointer (RFC 6901: ~ → ~0,
/// / → ~1).
std::string escape_pointer_token(std::string_view token);

/// Reverses escape_pointer_token (~1 → /, ~0 → ~); the token must be valid.
std::string unescape_pointer_token(std::string_view token);

/// True when `pointer` is "" or a sequence of "/token" with only valid
/// escapes (~0 ~1).
bool is_valid_pointer(std::string_view pointer);

/// True when `path` equals `prefix` or lies under it, token-wise
/// ("/spec/rep" is NOT a prefix of "/spec/replicas"). "" is a prefix of
/// everything.
bool pointer_has_prefix(std::string_view path, std::string_view prefix);

/// The unescaped reference tokens of a valid pointer ("" → none).
std::vector<std::string> split_pointer(std::string_view pointer);

/// The value `pointer` designates inside `root`, or nullptr when it does not
/// exist (array tokens must be canonical decimal indexes, "-" never
/// resolves) or the pointer is invalid.
const rapidjson::Value* resolve_pointer(const rapidjson::Value& root,
                                        std::string_view pointer);

/// Compact JSON text of a value.
std::string compact_json(const rapidjson::Value& v);

/// Deep equality as diff_json sees it: like RapidJSON's operator== except
/// that two numbers are equal only when their JSON text is (1 vs 1.0
/// differs), and object member order is ignored.
bool json_equal(const rapidjson::Value& a, const rapidjson::Value& b);

enum class patch_op_kind : uint8_t { add, remove, replace };

/// "add" "remove" "replace".
std::string_view to_string(patch_op_kind k);

/// One RFC 6902 operation. `value` is compact JSON text (empty for remove).
/// `old_value` is the compact JSON text of the replaced/removed value (empty
/// for add); used by summaries.
struct patch_op {
  patch_op_kind op = patch_op_kind::add;
  std::string path;
  std::string value;
  std::string old_value;
};

/// The difference between two JSON values.
struct json_diff {
  /// Applying these in order to `from` gives exactly `to`.
  std::vector<patch_op> ops;
  /// Sorted, unique JSON Pointers of every LEAF that differs: scalars, and
  /// empty objects/arrays count as leaves. For an added subtree: every leaf
  /// inside it; removed subtree: every leaf it had; a type change (e.g.
  /// object→string): leaves of both sides. A container that becomes empty
  /// or stops being empty is listed too (its empty side is a leaf).
  std::vector<std::string> changed_paths;
};

/// Diff of two JSON values. Objects member-wise (member order ignored),
/// arrays index-wise: common prefix of indexes recursed into, surplus
/// elements of `from` removed from the highest index down, surplus elements
/// of `to` added in ascending index order. Numbers differ when their JSON
/// text does (1 vs 1.0 is a change). A difference at the root (e.g. from is
/// an object, to is an array) is one replace of path "".
json_diff diff_json(const rapidjson::Value& from, const rapidjson::Value& to);

/// `diff_json(from, to).changed_paths` without building the ops: what each
/// stored update needs, at a fraction of the cost (no value serialized).
std::vector<std::string> changed_paths(const rapidjson::Value& from,
                                       const rapidjson::Value& to);

/// Same as `diff_json`, parsing two JSON texts; nullopt if either does not
/// parse.
std::optional<json_diff> diff_json_text(std::string_view from,
                                        std::string_view to);

/// Serializes ops as an RFC 6902 JSON array. When `manager_of` is set and
/// returns a non-empty string for an op's path, the op gets an extra member
/// "manager":"<that>".
std::string patch_to_json(
  const std::vector<patch_op>& ops,
  const std::function<std::string(std::string_view path)>& manager_of = {});

/// Drops ops whose path lies under any of `prefixes` (pointer_has_prefix).
void drop_ops_under(std::vector<patch_op>& ops,
                    const std::vector<std::string>& prefixes);

/// Every leaf pointer of a value (used for blame): same leaf definition as
/// changed_paths, sorted, with `base` prepended.
std::vector<std::string> leaf_paths(const rapidjson::Value& v,
                                    const std::string& base = {});

} // namespace kws::storage
