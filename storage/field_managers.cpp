#include "storage/field_managers.hpp"

#include "storage/json_diff.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>

namespace kws::storage {

namespace {

using rapidjson::Value;

std::string str(const Value& obj, const char* key) {
  auto i = obj.FindMember(key);
  if (i == obj.MemberEnd() || !i->value.IsString())
    return {};
  return {i->value.GetString(), i->value.GetStringLength()};
}

// A node of a fieldsV1 tree that stands for a whole (atomic) value.
bool is_leaf(const Value& node) {
  if (!node.IsObject())
    return true;
  if (node.MemberCount() == 0)
    return true;
  return node.MemberCount() == 1 && node.MemberBegin()->name == ".";
}

bool has_prefix(const Value& name, std::string_view prefix) {
  return name.GetStringLength() >= prefix.size()
    && std::string_view{name.GetString(), prefix.size()} == prefix;
}

std::optional<size_t> parse_index(std::string_view s) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return n;
}

} // namespace

field_owners::field_owners(std::string_view managed_fields_json,
                           const Value& object)
    : object_(&object) {
  text_.assign(managed_fields_json);
  all_.ParseInsitu(text_.data());
  if (all_.HasParseError() || !all_.IsArray())
    return;
  for (const auto& x : all_.GetArray()) {
    if (!x.IsObject() || !x.HasMember("manager") || !x["manager"].IsString())
      continue;
    const Value* fields = &empty_;
    if (auto i = x.FindMember("fieldsV1");
        i != x.MemberEnd() && i->value.IsObject())
      fields = &i->value;
    trees_.push_back(tree{str(x, "manager"), str(x, "time"), fields});
  }
}

const Value* field_owners::key_of(const Value& name) const {
  auto it = keys_.find(&name);
  if (it == keys_.end()) {
    auto doc = std::make_unique<rapidjson::Document>();
    doc->Parse(name.GetString() + 2, name.GetStringLength() - 2);
    if (doc->HasParseError())
      doc.reset();
    it = keys_.emplace(&name, std::move(doc)).first;
  }
  return it->second.get();
}

const Value* field_owners::element_child(const Value& node,
                                         const Value& element,
                                         size_t index) const {
  for (const auto& m : node.GetObject()) {
    if (has_prefix(m.name, "i:")) {
      auto n
        = parse_index({m.name.GetString() + 2, m.name.GetStringLength() - 2});
      if (n == index)
        return &m.value;
      continue;
    }
    if (!has_prefix(m.name, "k:") && !has_prefix(m.name, "v:"))
      continue;
    const auto* key = key_of(m.name);
    if (key == nullptr)
      continue;
    const Value& k = *key;
    if (has_prefix(m.name, "v:")) {
      if (json_equal(k, element))
        return &m.value;
      continue;
    }
    if (!k.IsObject() || !element.IsObject())
      continue;
    bool all = std::all_of(k.MemberBegin(), k.MemberEnd(), [&](const auto& f) {
      auto e = element.FindMember(f.name);
      return e != element.MemberEnd() && json_equal(f.value, e->value);
    });
    if (all)
      return &m.value;
  }
  return nullptr;
}

int field_owners::match(const tree& t, const std::vector<std::string>& tokens,
                        const std::vector<std::string>& field_keys) const {
  const Value* node = t.fields;
  // Where the walk is in the object; null once it leaves it.
  const Value* at = object_;
  for (size_t n = 0; n < tokens.size(); ++n) {
    if (n > 0 && is_leaf(*node))
      return static_cast<int>(n);
    if (!node->IsObject())
      return -1;
    const Value* child = nullptr;
    if (at != nullptr && at->IsArray()) {
      auto index = parse_index(tokens[n]);
      if (!index || *index >= at->Size())
        return -1;
      at = &(*at)[static_cast<rapidjson::SizeType>(*index)];
      child = element_child(*node, *at, *index);
    } else {
      const auto& key = field_keys[n];
      auto i
        = node->FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
      if (i != node->MemberEnd())
        child = &i->value;
      if (at != nullptr && at->IsObject()) {
        auto j = at->FindMember(
          Value(rapidjson::StringRef(tokens[n].data(), tokens[n].size())));
        at = j == at->MemberEnd() ? nullptr : &j->value;
      } else {
        at = nullptr;
      }
    }
    if (child == nullptr)
      return -1;
    node = child;
  }
  return static_cast<int>(tokens.size());
}

std::string field_owners::owner_of(std::string_view pointer) const {
  if (pointer.empty() || !is_valid_pointer(pointer))
    return {};
  auto tokens = split_pointer(pointer);
  // Built once for every tree the path is matched against.
  std::vector<std::string> field_keys;
  field_keys.reserve(tokens.size());
  for (const auto& token : tokens)
    field_keys.push_back("f:" + token);
  const tree* best = nullptr;
  int best_matched = -1;
  for (const auto& t : trees_) {
    auto matched = match(t, tokens, field_keys);
    if (matched < 0)
      continue;
    if (matched > best_matched
        || (matched == best_matched && t.time > best->time)) {
      best = &t;
      best_matched = matched;
    }
  }
  return best == nullptr ? std::string{} : best->manager;
}

} // namespace kws::storage
