// Reading fields of RapidJSON objects without tripping over missing members
// or wrong types: apiserver data is untrusted, so every access checks.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

namespace kws::json {

/// The member `name` of `obj`, or nullptr when `obj` is no object or lacks it.
inline const rapidjson::Value* member(const rapidjson::Value& obj,
                                      const char* name) {
  if (!obj.IsObject())
    return nullptr;
  auto i = obj.FindMember(name);
  return i == obj.MemberEnd() ? nullptr : &i->value;
}

/// The string member `name` of `obj`, or "" when absent or not a string.
/// The view points into `obj`.
inline std::string_view string_member(const rapidjson::Value& obj,
                                      const char* name) {
  auto x = member(obj, name);
  if (!x || !x->IsString())
    return {};
  return {x->GetString(), x->GetStringLength()};
}

} // namespace kws::json
