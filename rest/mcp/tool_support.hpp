// What the tools share: reading arguments (the first problem names its
// argument), asking the REST API, shortening records for a model, and
// capping results with a cursor that resumes exactly where a result was cut.
#pragma once

#include "messages/http.hpp"
#include "rest/mcp/tools.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kws::mcp {

/// Reads a call's arguments. After the first problem every read returns a
/// default and `error()` tells the model which argument was wrong and why.
class arg_reader {
public:
  arg_reader(const rapidjson::Value& args, int64_t now_ns);

  /// A string argument; "" when absent.
  std::string text(const char* name, bool required = false);
  /// A required path segment (a namespace or name): no '/'; escaped as
  /// `http_request::path` holds it.
  std::string segment(const char* name);
  /// An RFC 3339 time, or a duration before now (`2h`, `30m`, `7d`).
  int64_t time(const char* name, int64_t fallback, bool required = false);
  /// A duration (`90s`, `30m`, `2h`, `7d`) in nanoseconds.
  int64_t duration(const char* name, int64_t fallback);
  bool flag(const char* name, bool fallback);
  /// A whole number in [1, max].
  uint32_t count(const char* name, uint32_t fallback, uint32_t max);
  /// An array of strings (a comma list in a string is accepted too).
  std::vector<std::string> list(const char* name);
  /// Fails the call with `message` about `name` unless already failed.
  void fail(const char* name, std::string message);

  bool failed() const { return !error_.empty(); }
  tool_result error() const;

private:
  const rapidjson::Value* find(const char* name);

  const rapidjson::Value& args_;
  int64_t now_ns_;
  std::string error_;
};

/// Parses `2h`-style durations; nullopt on anything else.
std::optional<int64_t> parse_duration(std::string_view text);

/// A GET of the REST API with the given query parameters (empty values are
/// left out).
http_request
rest_get(std::string path,
         const std::vector<std::pair<std::string, std::string>>& params);

/// A REST answer parsed, or why it failed.
struct rest_answer {
  bool ok = false;
  rapidjson::Document doc;
  /// The REST error message and the parameter it names, when not ok.
  std::string error;
  std::string parameter;
  uint16_t status = 0;
  /// X-Continue when the page has more.
  std::string continue_token;
  /// X-Coverage-Gaps, -1 when absent.
  int64_t coverage_gaps = -1;
};

rest_answer read_answer(const http_response& res);

/// An error result from a failed REST answer, naming `what` was asked.
tool_result failure(const rest_answer& a, std::string_view what);

/// Reading REST answers without trusting their shape: `at` is `v[name]`
/// or null, `items` the elements of an array or none, `int_at` a number or
/// 0. (RapidJSON's own accessors assert on a wrong shape.)
const rapidjson::Value& at(const rapidjson::Value& v, const char* name);
rapidjson::Value::ConstArray items(const rapidjson::Value& v);
int64_t int_at(const rapidjson::Value& v, const char* name);

/// A record without its snapshot: what a model reads in a listing.
rapidjson::Value summarize_record(const rapidjson::Value& record,
                                  rapidjson::Document::AllocatorType& a);

/// Where a listing resumes: the REST page token and how many of that page's
/// items were already returned.
struct page_cursor {
  std::string rest_token;
  uint32_t skip = 0;
};

std::string encode_cursor(const page_cursor& c);
/// Fails the reader's `cursor` argument when `text` is no cursor of ours.
page_cursor read_cursor(arg_reader& args);

/// Finishes a result object: adds `now`, keeps the array `items_key` within
/// the text budget (dropping items from its end), and sets `truncated` and
/// `nextCursor`. `page` tells how the items were fetched, or null for a
/// listing that cannot resume (then the cut is only flagged); `cut_before`
/// says items were left out before (then `truncated` is set too).
struct page_info {
  page_cursor asked;
  /// The REST answer's X-Continue ("" when the page was the last).
  std::string rest_next;
};
tool_result finish_result(rapidjson::Document& doc, const char* items_key,
                          const call_context& ctx,
                          const page_info* page = nullptr,
                          bool cut_before = false);

/// Items a listing returns at most (the REST API's largest page).
inline constexpr uint32_t max_listing_items = 1000;

/// How a listing's REST items become the tool's items.
using item_fn = rapidjson::Value (*)(const rapidjson::Value&,
                                     rapidjson::Document::AllocatorType&);
/// Adds members computed over a listing's items to its result.
using summary_fn
  = void (*)(const rapidjson::Value& items, rapidjson::Document& doc);

/// A listing of one REST page (`path` with `params`): asks for the cursor's
/// page with room for the items already returned from it, and returns
/// `limit` items after those, each made by `to_item`.
tool_plan paged(std::string path,
                std::vector<std::pair<std::string, std::string>> params,
                const page_cursor& cursor, uint32_t limit,
                const call_context& ctx, item_fn to_item, const char* what,
                summary_fn summarize = nullptr);

/// Standard Base64 (RFC 4648) with padding; decoding fails on anything else.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

} // namespace kws::mcp
