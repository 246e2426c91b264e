// Fuzzes the MCP endpoint's protocol layer with a request body, the era
// headers chosen by the first byte. Whatever arrives, the answer is a 2xx
// or 4xx with a JSON body (or an empty 202), never a crash or a 5xx; a
// call that becomes REST queries is finished with canned answers of each
// shape (a page, an object, a 400, a body that is not JSON).
//
// Input: one byte of header choice, then the body, e.g.
// `\x01{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{...}}`.

#include "rest/mcp/protocol.hpp"
#include "tests/fuzz/support.hpp"

#include <rapidjson/document.h>

#include <string>
#include <variant>

using kws::fuzz::check;

namespace {

void check_answer(const kws::http_response& res) {
  check(res.status >= 200 && res.status < 500, "an answer outside 2xx/4xx");
  if (res.status == 202)
    return;
  rapidjson::Document doc;
  doc.Parse(res.body.data(), res.body.size());
  check(!doc.HasParseError() && doc.IsObject(), "an answer that is not JSON");
  check(doc.HasMember("result") != doc.HasMember("error"),
        "an answer with neither or both of result and error");
}

kws::http_response canned(int shape) {
  kws::http_response res;
  switch (shape % 4) {
    case 0:
      res.body = R"([{"id":"01","resourceName":"a","objectChanges":{}}])";
      break;
    case 1:
      res.body
        = R"({"watchEvents":[],"relatedEvents":[],"patch":[],"fields":[],"gaps":[]})";
      break;
    case 2:
      res.status = 400;
      res.body = R"({"error":"bad","parameter":"start"})";
      break;
    default: res.body = "not json"; break;
  }
  return res;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  uint8_t choice = data[0];
  kws::http_request req;
  req.method = "POST";
  req.path = "/mcp";
  req.body = std::string{kws::fuzz::as_text(data + 1, size - 1)};
  if (choice & 1U)
    req.headers["mcp-protocol-version"]
      = choice & 2U ? "2026-07-28" : "2025-11-25";
  if (choice & 4U)
    req.headers["mcp-method"] = "tools/call";
  if (choice & 8U)
    req.headers["origin"] = "http://evil.example.com";
  kws::mcp::options opts;
  opts.max_text_bytes = 2'000;
  auto out = kws::mcp::handle(req, opts, 1'764'800'000'000'000'000);
  if (auto* res = std::get_if<kws::http_response>(&out))
    return check_answer(*res), 0;
  auto& call = std::get<kws::mcp::pending_call>(out);
  check(!call.queries.empty(), "a call without queries");
  for (const auto& q : call.queries)
    check(q.method == "GET" && q.path.starts_with("/api/v1/"),
          "a tool query outside the REST API");
  std::vector<kws::http_response> answers;
  for (size_t i = 0; i < call.queries.size(); ++i)
    answers.push_back(canned(choice >> 4U));
  check_answer(call.finish(answers));
  return 0;
}
