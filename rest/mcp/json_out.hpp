// Small helpers for building MCP answers with RapidJSON.
#pragma once

#include "util/json_text.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace kws::mcp {

/// The compact JSON text of `v`.
inline std::string stringify(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  v.Accept(w);
  return std::string{buf.GetString(), buf.GetSize()};
}

/// A string value holding a copy of `s` (ill-formed UTF-8, as a request
/// may carry, replaced so the answer stays valid JSON).
inline rapidjson::Value text(std::string_view s,
                             rapidjson::Document::AllocatorType& a) {
  std::string fixed;
  if (!is_valid_utf8(s)) {
    fixed = to_valid_utf8(s);
    s = fixed;
  }
  return rapidjson::Value{s.data(), static_cast<rapidjson::SizeType>(s.size()),
                          a};
}

/// `obj[name]` when `obj` is an object holding a string there, else "".
inline std::string_view member_text(const rapidjson::Value& obj,
                                    const char* name) {
  if (!obj.IsObject())
    return {};
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString())
    return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

} // namespace kws::mcp
