#include "storage/json_diff.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <optional>
#include <unordered_map>
#include <utility>

namespace kws::storage {

namespace {

using rapidjson::Value;

// Objects at least this large get a hash index for member lookups, so a
// ConfigMap with thousands of keys is not diffed in quadratic time.
constexpr size_t indexed_members = 16;

bool is_empty_container(const Value& v) {
  return (v.IsObject() && v.MemberCount() == 0) || (v.IsArray() && v.Empty());
}

std::string_view name_of(const Value::Member& m) {
  return {m.name.GetString(), m.name.GetStringLength()};
}

// Member lookup by name; indexes large objects once.
class member_finder {
public:
  explicit member_finder(const Value& obj) : obj_(obj) {
    if (obj.MemberCount() < indexed_members)
      return;
    index_.reserve(obj.MemberCount());
    for (const auto& m : obj.GetObject())
      index_.emplace(name_of(m), &m.value);
  }

  const Value* find(std::string_view name) const {
    if (!index_.empty()) {
      auto i = index_.find(name);
      return i == index_.end() ? nullptr : i->second;
    }
    for (const auto& m : obj_.GetObject())
      if (name_of(m) == name)
        return &m.value;
    return nullptr;
  }

private:
  const Value& obj_;
  std::unordered_map<std::string_view, const Value*> index_;
};

bool numbers_equal(const Value& a, const Value& b) {
  // A double's text always holds '.' or 'e', an integer's never.
  if (a.IsDouble() != b.IsDouble())
    return false;
  // Shortest round-trip text is a function of the bits (0.0 vs -0.0
  // differ in both); NaN cannot come out of a parse.
  if (a.IsDouble())
    return std::bit_cast<uint64_t>(a.GetDouble())
      == std::bit_cast<uint64_t>(b.GetDouble());
  if (a.IsInt64() && b.IsInt64())
    return a.GetInt64() == b.GetInt64();
  if (a.IsUint64() && b.IsUint64())
    return a.GetUint64() == b.GetUint64();
  return false;
}

// Appends the escaped token in place: a diff walks every member, and a
// string per member name would cost more than the walk.
void append_escaped(std::string& out, std::string_view token) {
  if (token.find_first_of("~/") == std::string_view::npos) {
    out += token;
    return;
  }
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
}

void append_token(std::string& path, std::string_view token) {
  path += '/';
  append_escaped(path, token);
}

void append_index(std::string& path, size_t i) {
  char buf[24];
  auto written = std::to_chars(buf, buf + sizeof buf, i);
  path += '/';
  path.append(buf, written.ptr);
}

void collect_leaves(const Value& v, std::string& path,
                    std::vector<std::string>& out) {
  if (v.IsObject() && v.MemberCount() > 0) {
    for (const auto& m : v.GetObject()) {
      auto size = path.size();
      append_token(path, name_of(m));
      collect_leaves(m.value, path, out);
      path.resize(size);
    }
  } else if (v.IsArray() && !v.Empty()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      auto size = path.size();
      append_index(path, i);
      collect_leaves(v[i], path, out);
      path.resize(size);
    }
  } else {
    out.push_back(path);
  }
}

class differ {
public:
  /// Without ops only the changed paths are collected: no value is
  /// serialized.
  differ(json_diff& out, bool with_ops) : out_(out), with_ops_(with_ops) {}

  void diff(const Value& a, const Value& b) {
    if (a.IsObject() && b.IsObject())
      diff_objects(a, b);
    else if (a.IsArray() && b.IsArray())
      diff_arrays(a, b);
    else if (!json_equal(a, b))
      replace(a, b);
  }

private:
  void diff_objects(const Value& a, const Value& b) {
    note_emptiness(a, b);
    // Two versions of an object mostly list their members in the same
    // order: each is looked for at its own place first, and searched for
    // (by an index built only then) when it is not there.
    std::optional<member_finder> in_a;
    std::optional<member_finder> in_b;
    auto next_b = b.MemberBegin();
    bool aligned = true;
    for (const auto& m : a.GetObject()) {
      auto size = path_.size();
      append_token(path_, name_of(m));
      const Value* other = nullptr;
      if (aligned && next_b != b.MemberEnd()
          && name_of(*next_b) == name_of(m)) {
        other = &next_b->value;
        ++next_b;
      } else {
        aligned = false;
        if (!in_b)
          in_b.emplace(b);
        other = in_b->find(name_of(m));
      }
      if (other != nullptr)
        diff(m.value, *other);
      else
        remove(m.value);
      path_.resize(size);
    }
    // Every member of `b` was met in order: none was added.
    if (aligned && next_b == b.MemberEnd())
      return;
    in_a.emplace(a);
    for (const auto& m : b.GetObject()) {
      if (in_a->find(name_of(m)) != nullptr)
        continue;
      auto size = path_.size();
      append_token(path_, name_of(m));
      add(m.value);
      path_.resize(size);
    }
  }

  void diff_arrays(const Value& a, const Value& b) {
    note_emptiness(a, b);
    auto common = std::min(a.Size(), b.Size());
    auto size = path_.size();
    for (rapidjson::SizeType i = 0; i < common; ++i) {
      append_index(path_, i);
      diff(a[i], b[i]);
      path_.resize(size);
    }
    // From the top, so each removal leaves the lower indexes in place.
    for (auto i = a.Size(); i > common; --i) {
      append_index(path_, i - 1);
      remove(a[i - 1]);
      path_.resize(size);
    }
    for (auto i = common; i < b.Size(); ++i) {
      append_index(path_, i);
      add(b[i]);
      path_.resize(size);
    }
  }

  // An empty container is a leaf; it appears or disappears as a leaf when
  // the container fills up or empties.
  void note_emptiness(const Value& a, const Value& b) {
    if (is_empty_container(a) != is_empty_container(b))
      out_.changed_paths.push_back(path_);
  }

  void add(const Value& v) {
    if (with_ops_)
      out_.ops.push_back(
        {patch_op_kind::add, path_, compact_json(v), std::string{}});
    collect_leaves(v, path_, out_.changed_paths);
  }

  void remove(const Value& v) {
    if (with_ops_)
      out_.ops.push_back(
        {patch_op_kind::remove, path_, std::string{}, compact_json(v)});
    collect_leaves(v, path_, out_.changed_paths);
  }

  void replace(const Value& a, const Value& b) {
    if (with_ops_)
      out_.ops.push_back(
        {patch_op_kind::replace, path_, compact_json(b), compact_json(a)});
    collect_leaves(a, path_, out_.changed_paths);
    collect_leaves(b, path_, out_.changed_paths);
  }

  json_diff& out_;
  bool with_ops_;
  std::string path_;
};

void sort_unique(std::vector<std::string>& xs) {
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
}

} // namespace

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  append_escaped(out, token);
  return out;
}

std::string unescape_pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size()) {
      out += token[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

bool is_valid_pointer(std::string_view pointer) {
  if (pointer.empty())
    return true;
  if (pointer.front() != '/')
    return false;
  for (size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] != '~')
      continue;
    if (i + 1 >= pointer.size()
        || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))
      return false;
    ++i;
  }
  return true;
}

bool pointer_has_prefix(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix))
    return false;
  // Token-wise: the prefix must end where a token of `path` ends.
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::vector<std::string> split_pointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty())
    return tokens;
  size_t start = 1;
  while (true) {
    auto end = pointer.find('/', start);
    auto token = pointer.substr(
      start,
      end == std::string_view::npos ? std::string_view::npos : end - start);
    tokens.push_back(unescape_pointer_token(token));
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  return tokens;
}

const Value* resolve_pointer(const Value& root, std::string_view pointer) {
  if (!is_valid_pointer(pointer))
    return nullptr;
  const Value* cur = &root;
  for (const auto& token : split_pointer(pointer)) {
    if (cur->IsObject()) {
      auto i = cur->FindMember(
        Value(rapidjson::StringRef(token.data(), token.size())));
      if (i == cur->MemberEnd())
        return nullptr;
      cur = &i->value;
    } else if (cur->IsArray()) {
      // RFC 6901: decimal digits, no leading zero (except "0" itself).
      if (token.empty() || token.size() > 9
          || (token.size() > 1 && token[0] == '0')
          || !std::all_of(token.begin(), token.end(),
                          [](char c) { return c >= '0' && c <= '9'; }))
        return nullptr;
      auto index = static_cast<rapidjson::SizeType>(std::stoul(token));
      if (index >= cur->Size())
        return nullptr;
      cur = &(*cur)[index];
    } else {
      return nullptr;
    }
  }
  return cur;
}

std::string compact_json(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  v.Accept(writer);
  return {buf.GetString(), buf.GetSize()};
}

bool json_equal(const Value& a, const Value& b) {
  if (a.GetType() != b.GetType())
    return false;
  switch (a.GetType()) {
    case rapidjson::kNumberType: return numbers_equal(a, b);
    case rapidjson::kStringType:
      return a.GetStringLength() == b.GetStringLength()
        && std::equal(a.GetString(), a.GetString() + a.GetStringLength(),
                      b.GetString());
    case rapidjson::kArrayType: {
      if (a.Size() != b.Size())
        return false;
      for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
        if (!json_equal(a[i], b[i]))
          return false;
      return true;
    }
    case rapidjson::kObjectType: {
      if (a.MemberCount() != b.MemberCount())
        return false;
      member_finder in_b(b);
      for (const auto& m : a.GetObject()) {
        const auto* other = in_b.find(name_of(m));
        if (other == nullptr || !json_equal(m.value, *other))
          return false;
      }
      return true;
    }
    default: return true; // null, true, false: the type is the value
  }
}

std::string_view to_string(patch_op_kind k) {
  switch (k) {
    case patch_op_kind::add: return "add";
    case patch_op_kind::remove: return "remove";
    case patch_op_kind::replace: return "replace";
  }
  return "";
}

json_diff diff_json(const Value& from, const Value& to) {
  json_diff out;
  differ{out, true}.diff(from, to);
  sort_unique(out.changed_paths);
  return out;
}

std::vector<std::string> changed_paths(const Value& from, const Value& to) {
  json_diff out;
  differ{out, false}.diff(from, to);
  sort_unique(out.changed_paths);
  return std::move(out.changed_paths);
}

std::optional<json_diff> diff_json_text(std::string_view from,
                                        std::string_view to) {
  rapidjson::Document a;
  rapidjson::Document b;
  a.Parse(from.data(), from.size());
  if (a.HasParseError())
    return std::nullopt;
  b.Parse(to.data(), to.size());
  if (b.HasParseError())
    return std::nullopt;
  return diff_json(a, b);
}

std::string patch_to_json(
  const std::vector<patch_op>& ops,
  const std::function<std::string(std::string_view path)>& manager_of) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (const auto& op : ops) {
    w.StartObject();
    w.Key("op");
    auto name = to_string(op.op);
    w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w.Key("path");
    w.String(op.path.data(), static_cast<rapidjson::SizeType>(op.path.size()));
    if (op.op != patch_op_kind::remove) {
      w.Key("value");
      // The type only steers the writer's bookkeeping; any non-container
      // type is right for a value in an object.
      w.RawValue(op.value.data(), op.value.size(), rapidjson::kStringType);
    }
    if (manager_of) {
      auto manager = manager_of(op.path);
      if (!manager.empty()) {
        w.Key("manager");
        w.String(manager.data(),
                 static_cast<rapidjson::SizeType>(manager.size()));
      }
    }
    w.EndObject();
  }
  w.EndArray();
  return {buf.GetString(), buf.GetSize()};
}

void drop_ops_under(std::vector<patch_op>& ops,
                    const std::vector<std::string>& prefixes) {
  std::erase_if(ops, [&](const patch_op& op) {
    return std::any_of(
      prefixes.begin(), prefixes.end(),
      [&](const std::string& p) { return pointer_has_prefix(op.path, p); });
  });
}

std::vector<std::string> leaf_paths(const Value& v, const std::string& base) {
  std::vector<std::string> out;
  auto path = base;
  collect_leaves(v, path, out);
  sort_unique(out);
  return out;
}

} // namespace kws::storage
