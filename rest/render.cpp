#include "rest/render.hpp"

#include "rest/record_summary.hpp"
#include "util/errors.hpp"
#include "util/json_text.hpp"
#include "util/time_format.hpp"

#include <caf/sec.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace kws::rest {

namespace {

/// Appends `records` (each already a JSON object) as a JSON array. The
/// stored bytes go out unchanged: no parse, no re-serialization.
void append_array(std::string& out, const std::vector<std::string>& records) {
  out += '[';
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0)
      out += ',';
    out += records[i];
  }
  out += ']';
}

size_t total_size(const std::vector<std::string>& records) {
  size_t n = 2 + records.size();
  for (const auto& r : records)
    n += r.size();
  return n;
}

} // namespace

std::string json_string(std::string_view s) {
  return quote_json(s);
}

std::string json_string_array(const std::vector<std::string>& xs) {
  std::string out = "[";
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ',';
    out += json_string(xs[i]);
  }
  out += ']';
  return out;
}

http_response render_answer(const json_answer& a) {
  http_response res;
  if (!a.found) {
    res.status = 404;
    res.body = render_error_body(a.body);
    return res;
  }
  if (a.paged) {
    res.headers["X-Total-Count"] = std::to_string(a.count);
    res.headers["X-Has-More"] = a.has_more ? "true" : "false";
    if (a.has_more)
      res.headers["X-Continue"] = a.continue_token;
  }
  res.status = 200;
  res.body = a.body;
  return res;
}

http_response render_page(const event_page& page, bool summary) {
  http_response res;
  res.status = 200;
  if (summary) {
    std::vector<std::string> light;
    light.reserve(page.records.size());
    for (const auto& r : page.records)
      light.push_back(summarize_record(r));
    res.body.reserve(total_size(light));
    append_array(res.body, light);
  } else {
    res.body.reserve(total_size(page.records));
    append_array(res.body, page.records);
  }
  res.headers["X-Total-Count"] = std::to_string(page.records.size());
  res.headers["X-Has-More"] = page.has_more ? "true" : "false";
  if (page.has_more)
    res.headers["X-Continue"] = page.continue_token;
  return res;
}

http_response render_history(const history_query& q, const object_history& h) {
  if (!h.found) {
    http_response res;
    res.status = 404;
    res.body
      = render_error_body("no history for " + q.resource + " "
                          + (q.ns.empty() ? q.name : q.ns + "/" + q.name));
    return res;
  }
  http_response res;
  res.status = 200;
  auto& out = res.body;
  out.reserve(128 + total_size(h.watch_events) + total_size(h.related_events));
  out += "{\"namespace\":";
  out += json_string(q.ns);
  out += ",\"resourceType\":";
  out += json_string(q.resource);
  out += ",\"resourceName\":";
  out += json_string(q.name);
  out += ",\"watchEvents\":";
  append_array(out, h.watch_events);
  out += ",\"relatedEvents\":";
  append_array(out, h.related_events);
  out += '}';
  return res;
}

http_response render_coverage(const std::vector<coverage_gap>& gaps,
                              const std::vector<watcher_status>& watched) {
  http_response res;
  res.status = 200;
  auto& out = res.body;
  out += "{\"gaps\":[";
  for (size_t i = 0; i < gaps.size(); ++i) {
    const auto& g = gaps[i];
    // "deployments.apps" → resource "deployments", group "apps".
    std::string_view gr = g.group_resource;
    auto dot = gr.find('.');
    auto resource = gr.substr(0, dot);
    auto group
      = dot == std::string_view::npos ? std::string_view{} : gr.substr(dot + 1);
    if (i > 0)
      out += ',';
    out += "{\"resourceType\":" + json_string(resource);
    out += ",\"group\":" + json_string(group);
    out += ",\"start\":" + json_string(format_rfc3339(g.start_ns));
    out += ",\"end\":" + json_string(format_rfc3339(g.end_ns));
    out += ",\"fromResourceVersion\":" + json_string(g.from_resource_version);
    out += ",\"toResourceVersion\":" + json_string(g.to_resource_version);
    out += ",\"reason\":" + json_string(g.reason) + "}";
  }
  out += "],\"filtered\":[";
  auto list = [&out](const std::vector<std::string>& xs) {
    out += json_string_array(xs);
  };
  bool first = true;
  for (const auto& w : watched) {
    const auto& f = w.filter;
    if (f.records_everything())
      continue;
    if (!first)
      out += ',';
    first = false;
    out += "{\"resourceType\":" + json_string(w.type.plural);
    out += ",\"group\":" + json_string(w.type.group);
    out += ",\"namespaces\":";
    list(f.namespaces);
    out += ",\"excludeNamespaces\":";
    list(f.exclude_namespaces);
    out += ",\"labelSelector\":" + json_string(f.label_selector);
    out += ",\"fieldSelector\":" + json_string(f.field_selector);
    out += ",\"statusUpdates\":" + json_string(to_string(f.status)) + "}";
  }
  out += "]}";
  return res;
}

std::string render_error_body(std::string_view message,
                              std::string_view parameter) {
  std::string out = "{\"error\":";
  out += json_string(message);
  if (!parameter.empty()) {
    out += ",\"parameter\":";
    out += json_string(parameter);
  }
  out += '}';
  return out;
}

http_response render_error(const caf::error& err) {
  http_response res;
  res.status = 500;
  std::string message;
  std::string parameter;
  if (err.category() == caf::atom("kws")) {
    const auto code = static_cast<ec>(err.code());
    if (code == ec::invalid_argument)
      res.status = 400;
    else if (code == ec::not_found)
      res.status = 404;
    else if (code == ec::already_exists)
      res.status = 409;
    else if (code == ec::unauthenticated)
      res.status = 401;
    else if (code == ec::forbidden)
      res.status = 403;
    else if (code == ec::unavailable)
      res.status = 503;
    std::vector<std::string> texts;
    const auto& ctx = err.context();
    for (size_t i = 0; i < ctx.size(); ++i)
      if (ctx.match_element<std::string>(i))
        texts.push_back(ctx.get_as<std::string>(i));
    if (res.status >= 500) {
      // Server-side failures keep their code name for operators.
      message = render(err);
    } else if (texts.size() >= 2) {
      parameter = texts[0];
      message = texts[1];
    } else if (texts.size() == 1) {
      message = texts[0];
    }
  } else {
    // A peer actor did not answer in time: the client may retry.
    if (err == caf::sec::request_timeout)
      res.status = 504;
    message = render(err);
  }
  // RFC 6750: a 401 names the scheme the client should use.
  if (res.status == 401)
    res.headers["WWW-Authenticate"] = "Bearer";
  if (message.empty())
    message = res.status == 400 ? "bad request"
      : res.status == 404       ? "not found"
                                : "internal error";
  res.body = render_error_body(message, parameter);
  return res;
}

http_response render_readiness(const readiness& r) {
  auto list = [&](auto pred) {
    std::string out = "[";
    for (const auto& w : r.watchers) {
      if (!pred(w))
        continue;
      if (out.size() > 1)
        out += ",";
      out += json_string(w.type.group_resource());
    }
    return out + "]";
  };
  auto pending
    = list([](const watcher_status& w) { return !w.synced && !w.refused; });
  auto failing
    = list([](const watcher_status& w) { return !w.last_error.empty(); });
  auto behind = list([](const watcher_status& w) { return w.behind; });
  // Degraded stays 200: queries are still answered, but recent changes may
  // not be stored yet.
  http_response result;
  result.status = r.ready ? 200 : 503;
  result.body = !r.ready ? R"({"status":"not ready")"
    : r.degraded         ? R"({"status":"degraded")"
                         : R"({"status":"ready")";
  result.body += ",\"pending\":" + pending + ",\"failing\":" + failing
    + ",\"behind\":" + behind + "}";
  return result;
}

} // namespace kws::rest
