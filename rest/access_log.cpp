#include "rest/access_log.hpp"

#include "rest/routes.hpp"
#include "util/log_text.hpp"

#include <fmt/format.h>

namespace kws::rest {

namespace {

std::string duration_ms(std::chrono::nanoseconds d) {
  return fmt::format("{:.3f}", static_cast<double>(d.count()) / 1e6);
}

/// `s` for a text line: printable ASCII stays, the rest becomes an escape.
void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20 || b >= 0x7F) {
      out += fmt::format("\\x{:02x}", b);
    } else {
      out += c;
    }
  }
}

void append_or_dash(std::string& out, std::string_view s) {
  if (s.empty())
    out += '-';
  else
    append_escaped(out, s);
}

} // namespace

bool should_log(const access_entry& entry) {
  if (entry.status >= 400)
    return true;
  std::string_view path = entry.target;
  path = path.substr(0, path.find('?'));
  return !is_probe_path(path);
}

std::string format_text(const access_entry& entry) {
  std::string out = format_log_time(entry.time_ns);
  out += ' ';
  out += access_logger_name;
  out += ' ';
  append_or_dash(out, entry.remote);
  out += " \"";
  if (entry.method.empty() && entry.target.empty()) {
    out += '-';
  } else {
    append_escaped(out, entry.method);
    out += ' ';
    append_escaped(out, entry.target);
  }
  out += fmt::format("\" {} {} {}ms ", entry.status, entry.bytes,
                     duration_ms(entry.duration));
  append_or_dash(out, entry.caller);
  return out;
}

std::string format_json(const access_entry& entry) {
  auto message
    = entry.method + ' ' + entry.target + ' ' + std::to_string(entry.status);
  std::string out = R"({"time":")" + format_log_time(entry.time_ns)
    + R"(","level":"info","logger":")";
  out += access_logger_name;
  out += R"(","message":)" + quote_json_bytes(message);
  out += ",\"remote\":" + quote_json_bytes(entry.remote);
  out += ",\"method\":" + quote_json_bytes(entry.method);
  out += ",\"target\":" + quote_json_bytes(entry.target);
  out += fmt::format(R"(,"status":{},"bytes":{},"durationMs":{})", entry.status,
                     entry.bytes, duration_ms(entry.duration));
  out += ",\"caller\":" + quote_json_bytes(entry.caller);
  out += '}';
  return out;
}

} // namespace kws::rest
