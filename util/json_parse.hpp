// Parsing JSON from peers into a RapidJSON Document with numbers that keep
// their exact value.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

namespace kws::json {

/// Parses `text` into `doc`, as `Document::Parse` would (a UTF-8 BOM is
/// skipped), but converts numbers with `std::from_chars`: RapidJSON 1.1.0
/// (Debian's) gets some numbers wrong in full-precision mode (`0e100` became
/// -2e146, `0.` with 30 zeros 9.6e-240, the integer 18446744073709551615661100
/// 9.7e24; Tencent/rapidjson#1249) and may be a few ULP off in normal mode.
/// Objects are re-serialized from the Document, so a wrong value would be
/// stored. Integers keep RapidJSON's own types; numbers beyond a double are
/// errors. Iterative, so deep nesting costs no stack.
/// @returns the parse result; on error `doc` holds no value.
rapidjson::ParseResult parse(rapidjson::Document& doc, std::string_view text);

} // namespace kws::json
