#include "rest/mcp/tool_support.hpp"

#include "rest/mcp/json_out.hpp"
#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <algorithm>
#include <charconv>

namespace kws::mcp {

namespace {

constexpr int64_t ns_per_s = 1'000'000'000;

std::string kind_of(const rapidjson::Value& v) {
  if (v.IsString())
    return "a string";
  if (v.IsNumber())
    return "a number";
  if (v.IsBool())
    return "a boolean";
  if (v.IsArray())
    return "an array";
  if (v.IsObject())
    return "an object";
  return "null";
}

} // namespace

arg_reader::arg_reader(const rapidjson::Value& args, int64_t now_ns)
    : args_{args}, now_ns_{now_ns} {
  // nop
}

const rapidjson::Value* arg_reader::find(const char* name) {
  if (failed() || !args_.IsObject())
    return nullptr;
  auto it = args_.FindMember(name);
  if (it == args_.MemberEnd() || it->value.IsNull())
    return nullptr;
  return &it->value;
}

void arg_reader::fail(const char* name, std::string message) {
  if (failed())
    return;
  error_ = std::string{"argument "} + name + ": " + std::move(message);
}

tool_result arg_reader::error() const {
  tool_result r;
  r.is_error = true;
  r.error_text = error_;
  return r;
}

std::string arg_reader::text(const char* name, bool required) {
  const auto* v = find(name);
  if (!v) {
    if (required)
      fail(name, "is required");
    return {};
  }
  if (!v->IsString()) {
    fail(name, "expected a string, got " + kind_of(*v));
    return {};
  }
  std::string out{v->GetString(), v->GetStringLength()};
  if (required && out.empty())
    fail(name, "must not be empty");
  return out;
}

std::string arg_reader::segment(const char* name) {
  auto out = text(name, true);
  if (out.find('/') != std::string::npos || out == "." || out == "..")
    fail(name, "\"" + out + "\" is not a name");
  return escape_path_segment(out);
}

int64_t arg_reader::time(const char* name, int64_t fallback, bool required) {
  auto raw = text(name, required);
  if (raw.empty() || failed())
    return fallback;
  if (auto ago = parse_duration(raw))
    return now_ns_ - *ago;
  auto t = parse_rfc3339_clamped(raw);
  if (!t) {
    fail(name,
         "expected an RFC 3339 time such as 2026-12-04T14:00:00Z or a "
         "duration before now such as 2h, got \""
           + raw + "\": " + error_detail(t.error()));
    return fallback;
  }
  return *t;
}

int64_t arg_reader::duration(const char* name, int64_t fallback) {
  auto raw = text(name);
  if (raw.empty() || failed())
    return fallback;
  auto d = parse_duration(raw);
  if (!d || *d <= 0) {
    fail(name,
         "expected a duration such as 90s, 30m, 2h or 7d, got \"" + raw + "\"");
    return fallback;
  }
  return *d;
}

bool arg_reader::flag(const char* name, bool fallback) {
  const auto* v = find(name);
  if (!v)
    return fallback;
  if (!v->IsBool()) {
    fail(name, "expected true or false, got " + kind_of(*v));
    return fallback;
  }
  return v->GetBool();
}

uint32_t arg_reader::count(const char* name, uint32_t fallback, uint32_t max) {
  const auto* v = find(name);
  if (!v)
    return fallback;
  if (!v->IsInt64() || v->GetInt64() < 1 || v->GetInt64() > max) {
    fail(name, "expected a whole number from 1 to " + std::to_string(max));
    return fallback;
  }
  return static_cast<uint32_t>(v->GetInt64());
}

std::vector<std::string> arg_reader::list(const char* name) {
  std::vector<std::string> out;
  const auto* v = find(name);
  if (!v)
    return out;
  auto add = [&out](std::string_view item) {
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty())
      out.emplace_back(item);
  };
  if (v->IsString()) {
    std::string_view s{v->GetString(), v->GetStringLength()};
    for (size_t pos = 0; pos <= s.size();) {
      auto comma = s.find(',', pos);
      if (comma == std::string_view::npos)
        comma = s.size();
      add(s.substr(pos, comma - pos));
      pos = comma + 1;
    }
    return out;
  }
  if (!v->IsArray()) {
    fail(name, "expected an array of strings, got " + kind_of(*v));
    return out;
  }
  for (const auto& item : v->GetArray()) {
    if (!item.IsString()) {
      fail(name, "expected an array of strings, found " + kind_of(item));
      return {};
    }
    add({item.GetString(), item.GetStringLength()});
  }
  return out;
}

std::optional<int64_t> parse_duration(std::string_view text) {
  if (text.size() < 2)
    return std::nullopt;
  int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = ns_per_s; break;
    case 'm': unit = 60 * ns_per_s; break;
    case 'h': unit = 3600 * ns_per_s; break;
    case 'd': unit = 86400 * ns_per_s; break;
    default: return std::nullopt;
  }
  int64_t n = 0;
  auto digits = text.substr(0, text.size() - 1);
  auto [end, ec]
    = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  // At most 10 years: beyond that nothing is stored anyway.
  if (ec != std::errc{} || end != digits.data() + digits.size() || n < 0
      || n > int64_t{3650} * 86400 * ns_per_s / unit)
    return std::nullopt;
  return n * unit;
}

http_request
rest_get(std::string path,
         const std::vector<std::pair<std::string, std::string>>& params) {
  http_request req;
  req.method = "GET";
  req.path = std::move(path);
  for (const auto& [name, value] : params) {
    if (value.empty())
      continue;
    req.query_names.push_back(name);
    req.query_values.push_back(value);
  }
  // Tools ask on the model's behalf, never as a loopback admin.
  req.from_loopback = false;
  return req;
}

rest_answer read_answer(const http_response& res) {
  rest_answer out;
  out.status = res.status;
  if (auto it = res.headers.find("X-Continue"); it != res.headers.end())
    out.continue_token = it->second;
  if (auto it = res.headers.find("X-Coverage-Gaps"); it != res.headers.end())
    std::from_chars(it->second.data(), it->second.data() + it->second.size(),
                    out.coverage_gaps);
  out.doc.Parse(res.body.data(), res.body.size());
  if (out.doc.HasParseError()) {
    out.error = "the query's answer was not JSON";
    return out;
  }
  if (res.status != 200) {
    out.error = member_text(out.doc, "error");
    out.parameter = member_text(out.doc, "parameter");
    if (out.error.empty())
      out.error = "the query failed with HTTP " + std::to_string(res.status);
    return out;
  }
  out.ok = true;
  return out;
}

tool_result failure(const rest_answer& a, std::string_view what) {
  tool_result r;
  r.is_error = true;
  r.error_text = std::string{what} + ": " + a.error;
  if (!a.parameter.empty())
    r.error_text += " (argument " + a.parameter + ")";
  return r;
}

const rapidjson::Value& at(const rapidjson::Value& v, const char* name) {
  static const rapidjson::Value null_value;
  if (!v.IsObject())
    return null_value;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? null_value : it->value;
}

rapidjson::Value::ConstArray items(const rapidjson::Value& v) {
  static const rapidjson::Value empty{rapidjson::kArrayType};
  return v.IsArray() ? v.GetArray() : empty.GetArray();
}

int64_t int_at(const rapidjson::Value& v, const char* name) {
  const auto& x = at(v, name);
  return x.IsInt64() ? x.GetInt64() : 0;
}

rapidjson::Value summarize_record(const rapidjson::Value& record,
                                  rapidjson::Document::AllocatorType& a) {
  // Enough to tell what happened and to ask for more by id.
  static constexpr const char* kept[]
    = {"id",           "timestamp",    "verb",     "namespace",
       "resourceType", "resourceName", "uid",      "user",
       "changeClass",  "message",      "managers", "changedPathsTruncated"};
  constexpr size_t max_paths = 20;
  rapidjson::Value out{rapidjson::kObjectType};
  if (!record.IsObject())
    return out;
  for (const char* name : kept) {
    auto it = record.FindMember(name);
    if (it != record.MemberEnd())
      out.AddMember(rapidjson::StringRef(name), rapidjson::Value{it->value, a},
                    a);
  }
  auto paths = record.FindMember("changedPaths");
  if (paths != record.MemberEnd() && paths->value.IsArray()) {
    rapidjson::Value list{rapidjson::kArrayType};
    for (const auto& p : paths->value.GetArray()) {
      if (list.Size() == max_paths)
        break;
      list.PushBack(rapidjson::Value{p, a}, a);
    }
    out.AddMember("changedPaths", list, a);
    if (paths->value.Size() > max_paths)
      out.AddMember("morePaths", paths->value.Size() - max_paths, a);
  }
  return out;
}

std::string encode_cursor(const page_cursor& c) {
  return base64_encode(std::to_string(c.skip) + ":" + c.rest_token);
}

page_cursor read_cursor(arg_reader& args) {
  page_cursor out;
  auto raw = args.text("cursor");
  if (raw.empty())
    return out;
  auto decoded = base64_decode(raw);
  auto colon = decoded ? decoded->find(':') : std::string::npos;
  uint32_t skip = 0;
  if (colon != std::string::npos) {
    auto [end, ec]
      = std::from_chars(decoded->data(), decoded->data() + colon, skip);
    if (ec == std::errc{} && end == decoded->data() + colon) {
      out.skip = skip;
      out.rest_token = decoded->substr(colon + 1);
      return out;
    }
  }
  args.fail("cursor", "not a cursor this server gave (pass nextCursor as is)");
  return out;
}

tool_result finish_result(rapidjson::Document& doc, const char* items_key,
                          const call_context& ctx, const page_info* page,
                          bool cut_before) {
  auto& a = doc.GetAllocator();
  doc.AddMember("now", text(format_rfc3339(ctx.now_ns), a), a);
  auto items = doc.FindMember(items_key);
  size_t kept = 0;
  bool cut = false;
  if (items != doc.MemberEnd() && items->value.IsArray()) {
    auto& list = items->value;
    // Items are dropped from the end until the whole text fits.
    size_t overhead = stringify(doc).size();
    size_t total = overhead;
    for (const auto& item : list.GetArray()) {
      auto n = stringify(item).size() + 1;
      if (total + n > ctx.max_text_bytes && kept > 0)
        break;
      total += n;
      ++kept;
    }
    cut = kept < list.Size();
    while (list.Size() > kept)
      list.PopBack();
  }
  std::string next;
  if (page && cut)
    next = encode_cursor(
      {page->asked.rest_token, page->asked.skip + static_cast<uint32_t>(kept)});
  else if (page && !page->rest_next.empty())
    next = encode_cursor({page->rest_next, 0});
  doc.AddMember("truncated", cut || cut_before || !next.empty(), a);
  if (!next.empty())
    doc.AddMember("nextCursor", text(next, a), a);
  tool_result r;
  r.structured = stringify(doc);
  return r;
}

tool_plan paged(std::string path,
                std::vector<std::pair<std::string, std::string>> params,
                const page_cursor& cursor, uint32_t limit,
                const call_context& ctx, item_fn to_item, const char* what,
                summary_fn summarize) {
  auto room = std::min(max_listing_items, cursor.skip + limit);
  params.emplace_back("limit", std::to_string(room));
  params.emplace_back("continue", cursor.rest_token);
  tool_plan plan;
  plan.queries.push_back(rest_get(std::move(path), params));
  plan.render = [cursor, ctx, to_item, what,
                 summarize](const std::vector<http_response>& answers) {
    auto answer = read_answer(answers.at(0));
    if (!answer.ok)
      return failure(answer, what);
    rapidjson::Document doc{rapidjson::kObjectType};
    auto& a = doc.GetAllocator();
    rapidjson::Value list{rapidjson::kArrayType};
    uint32_t i = 0;
    for (const auto& item : items(answer.doc))
      if (i++ >= cursor.skip)
        list.PushBack(to_item(item, a), a);
    if (summarize)
      summarize(list, doc);
    doc.AddMember("items", list, a);
    if (answer.coverage_gaps >= 0)
      doc.AddMember("coverageGaps", answer.coverage_gaps, a);
    page_info page{cursor, answer.continue_token};
    return finish_result(doc, "items", ctx, &page);
  };
  return plan;
}

namespace {

constexpr std::string_view b64_alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

} // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16U;
    if (i + 1 < bytes.size())
      n |= static_cast<uint8_t>(bytes[i + 1]) << 8U;
    if (i + 2 < bytes.size())
      n |= static_cast<uint8_t>(bytes[i + 2]);
    out += b64_alphabet[(n >> 18U) & 63U];
    out += b64_alphabet[(n >> 12U) & 63U];
    out += i + 1 < bytes.size() ? b64_alphabet[(n >> 6U) & 63U] : '=';
    out += i + 2 < bytes.size() ? b64_alphabet[n & 63U] : '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t n = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      uint32_t v = 0;
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++pad;
      } else {
        auto pos = b64_alphabet.find(c);
        if (pos == std::string_view::npos || pad > 0)
          return std::nullopt;
        v = static_cast<uint32_t>(pos);
      }
      n = (n << 6U) | v;
    }
    out += static_cast<char>((n >> 16U) & 255U);
    if (pad < 2)
      out += static_cast<char>((n >> 8U) & 255U);
    if (pad < 1)
      out += static_cast<char>(n & 255U);
  }
  return out;
}

} // namespace kws::mcp
