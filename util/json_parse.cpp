#include "util/json_parse.hpp"

#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace kws::json {

namespace {

/// Builds a Document from the parser's events but converts numbers itself.
struct exact_numbers {
  rapidjson::Document& doc;

  bool Null() { return doc.Null(); }
  bool Bool(bool b) { return doc.Bool(b); }
  bool Int(int i) { return doc.Int(i); }
  bool Uint(unsigned u) { return doc.Uint(u); }
  bool Int64(int64_t i) { return doc.Int64(i); }
  bool Uint64(uint64_t u) { return doc.Uint64(u); }
  bool Double(double d) { return doc.Double(d); }
  bool String(const char* str, rapidjson::SizeType len, bool copy) {
    return doc.String(str, len, copy);
  }
  bool StartObject() { return doc.StartObject(); }
  bool Key(const char* str, rapidjson::SizeType len, bool copy) {
    return doc.Key(str, len, copy);
  }
  bool EndObject(rapidjson::SizeType n) { return doc.EndObject(n); }
  bool StartArray() { return doc.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return doc.EndArray(n); }

  /// `text` is a valid JSON number (the parser checked its syntax).
  bool RawNumber(const char* str, rapidjson::SizeType len, bool) {
    std::string_view text{str, len};
    auto end = text.data() + text.size();
    bool minus = text.front() == '-';
    if (text.find_first_of(".eE") == std::string_view::npos) {
      uint64_t u = 0;
      auto first = text.data() + (minus ? 1 : 0);
      auto [ptr, err] = std::from_chars(first, end, u);
      if (err == std::errc{} && ptr == end) {
        if (!minus)
          return doc.Uint64(u);
        if (u <= uint64_t{1} << 63)
          return doc.Int64(static_cast<int64_t>(~u + 1));
      }
      // Beyond 64 bits: a double, as RapidJSON does.
    }
    double d = 0;
    auto [ptr, err] = std::from_chars(text.data(), end, d);
    if (err == std::errc::result_out_of_range) {
      // from_chars does not say which way; underflow is 0 as in RapidJSON,
      // overflow an error.
      d = std::strtod(std::string{text}.c_str(), nullptr);
      if (std::isinf(d))
        return false;
    } else if (err != std::errc{} || ptr != end) {
      return false;
    }
    return doc.Double(d);
  }
};

} // namespace

rapidjson::ParseResult parse(rapidjson::Document& doc, std::string_view text) {
  rapidjson::ParseResult result;
  auto generate = [&](rapidjson::Document& target) {
    rapidjson::MemoryStream memory{text.data(), text.size()};
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream>
      stream{memory};
    rapidjson::Reader reader;
    exact_numbers handler{target};
    result = reader.Parse<rapidjson::kParseNumbersAsStringsFlag
                          | rapidjson::kParseIterativeFlag>(stream, handler);
    return !result.IsError();
  };
  doc.Populate(generate);
  return result;
}

} // namespace kws::json
