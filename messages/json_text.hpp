// Writing JSON text by hand where a DOM would only be built to be printed.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace kws {

/// A JSON string literal: `s` quoted and escaped.
inline std::string quote_json(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string{buf.GetString(), buf.GetSize()};
}

} // namespace kws
