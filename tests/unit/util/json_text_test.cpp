#include "util/json_text.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

using namespace kws;

namespace {

/// True when `json` parses with RapidJSON's encoding check.
bool parses_as_utf8(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  return !doc.HasParseError();
}

} // namespace

TEST(json_text_test, well_formed_utf8_is_kept) {
  for (const char* ok :
       {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80",
        "\xF4\x8F\xBF\xBF" /* U+10FFFF */, "\xED\x9F\xBF" /* U+D7FF */}) {
    EXPECT_TRUE(is_valid_utf8(ok)) << ok;
    EXPECT_EQ(to_valid_utf8(ok), ok);
  }
}

TEST(json_text_test, each_ill_formed_byte_becomes_a_replacement_character) {
  const std::string fffd = "\xEF\xBF\xBD";
  struct sample {
    std::string in;
    std::string out;
  };
  for (const auto& [in, out] : std::initializer_list<sample>{
         {"\xFF\xFE", fffd + fffd},
         {"a\x80z", "a" + fffd + "z"},                    // lone continuation
         {"\xC0\xAF", fffd + fffd},                       // overlong '/'
         {"\xE0\x80\xAF", fffd + fffd + fffd},            // overlong '/'
         {"\xED\xA0\x80", fffd + fffd + fffd},            // surrogate
         {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd}, // above U+10FFFF
         {"ok\xE2\x82", "ok" + fffd + fffd},              // cut short
         {"\xE2\x82\xAC\xE2", "\xE2\x82\xAC" + fffd}}) {
    EXPECT_FALSE(is_valid_utf8(in));
    EXPECT_EQ(to_valid_utf8(in), out);
  }
}

TEST(json_text_test, quoted_text_is_always_valid_json) {
  for (const char* x :
       {"verb \xFF\xFE", "tab\there \"quoted\" \\", "\xC3", "caf\xC3\xA9"}) {
    auto quoted = quote_json(x);
    EXPECT_TRUE(parses_as_utf8("[" + quoted + "]")) << quoted;
  }
  EXPECT_EQ(quote_json("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(quote_json("a\"b"), R"("a\"b")");
}

TEST(json_text_test, appending_a_quoted_string_writes_what_quote_json_returns) {
  const std::vector<std::string> texts{
    "",        "/spec/replicas", "kube-controller-manager",   "a\"b",
    "a\\b",    "tab\there",      std::string{"nul\0x", 5},    "caf\xC3\xA9",
    "bad\xC3", "del\x7f",        "/metadata/annotations/a~1b"};
  for (const auto& x : texts) {
    std::string out = "[";
    append_quoted_json(out, x);
    EXPECT_EQ(out, "[" + quote_json(x)) << x;
  }
}
