// Several requests answered together: one responder per request, and what
// to do with all the answers once the last one came. Touched only from one
// actor's callbacks, so it needs no lock. An MCP call is such a set: the
// REST queries its tool needs.
#pragma once

#include "messages/http.hpp"
#include "rest/mcp/protocol.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace kws {

/// `n` responders (n > 0); the last answer delivered calls `done` with all
/// of them, in the responders' order. A responder delivers once.
inline std::vector<responder_ptr>
gather_answers(size_t n,
               std::function<void(std::vector<http_response>&)> done) {
  struct gathering {
    std::vector<http_response> answers;
    size_t missing = 0;
    std::function<void(std::vector<http_response>&)> done;
  };
  class slot : public responder {
  public:
    slot(std::shared_ptr<gathering> g, size_t i) : g_{std::move(g)}, i_{i} {}
    void deliver(http_response res) override {
      auto g = std::exchange(g_, nullptr);
      if (!g)
        return;
      g->answers[i_] = std::move(res);
      if (--g->missing == 0)
        g->done(g->answers);
    }

  private:
    std::shared_ptr<gathering> g_;
    size_t i_;
  };
  auto g = std::make_shared<gathering>();
  g->answers.resize(n);
  g->missing = n;
  g->done = std::move(done);
  std::vector<responder_ptr> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back(std::make_shared<slot>(g, i));
  return out;
}

/// `POST /mcp`: the pure MCP layer answers, or names the REST queries a
/// tool needs, which `ask` answers (each to its responder); the last answer
/// in builds the reply.
inline void answer_mcp_request(
  const http_request& req, const mcp::options& opts, const responder_ptr& rp,
  const std::function<void(http_request, responder_ptr)>& ask) {
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  auto out = mcp::handle(req, opts, now);
  if (auto* res = std::get_if<http_response>(&out))
    return rp->deliver(std::move(*res));
  auto& call = std::get<mcp::pending_call>(out);
  if (call.queries.empty())
    return rp->deliver(call.finish({}));
  auto slots = gather_answers(
    call.queries.size(),
    [rp, finish = std::move(call.finish)](std::vector<http_response>& answers) {
      rp->deliver(finish(answers));
    });
  for (size_t i = 0; i < call.queries.size(); ++i)
    ask(std::move(call.queries[i]), slots[i]);
}

} // namespace kws
