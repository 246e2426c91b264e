#include "tests/support/fake_lister_watcher.hpp"

#include <fmt/format.h>

#include <utility>

namespace kws::test {

namespace {

/// Calls the oldest waiting callback with `answer`; false when none waits.
template <class Callback, class Answer>
bool answer_oldest(std::deque<Callback>& waiting, Answer&& answer) {
  if (waiting.empty())
    return false;
  auto done = std::move(waiting.front());
  waiting.pop_front();
  done(std::forward<Answer>(answer));
  return true;
}

} // namespace

void fake_watch_stream::read(std::function<void(kube::watch_chunk)> done) {
  waiting_ = std::move(done);
  hand_over();
}

void fake_watch_stream::close() {
  closed = true;
  waiting_ = nullptr;
}

void fake_watch_stream::push(kube::watch_chunk chunk) {
  queued_.push_back(std::move(chunk));
  hand_over();
}

void fake_watch_stream::hand_over() {
  if (closed || !waiting_ || queued_.empty())
    return;
  auto done = std::exchange(waiting_, nullptr);
  auto chunk = std::move(queued_.front());
  queued_.pop_front();
  done(std::move(chunk));
}

void fake_lister_watcher::list(
  kube::list_request req,
  std::function<void(caf::expected<kube::response>)> done) {
  lists.push_back(std::move(req));
  lists_waiting_.push_back(std::move(done));
}

void fake_lister_watcher::watch(
  kube::watch_request req,
  std::function<void(caf::expected<kube::watch_opening>)> done) {
  watches.push_back(std::move(req));
  watches_waiting_.push_back(std::move(done));
}

void fake_lister_watcher::get(
  std::string path, std::function<void(caf::expected<kube::response>)> done) {
  gets.push_back(std::move(path));
  gets_waiting_.push_back(std::move(done));
}

bool fake_lister_watcher::answer_list(caf::expected<kube::response> answer) {
  return answer_oldest(lists_waiting_, std::move(answer));
}

bool fake_lister_watcher::open_watch() {
  if (watches_waiting_.empty())
    return false;
  stream = std::make_shared<fake_watch_stream>();
  kube::watch_opening opening;
  opening.head.status = 200;
  opening.stream = stream;
  return answer_oldest(watches_waiting_, std::move(opening));
}

bool fake_lister_watcher::refuse_watch(caf::expected<kube::response> head) {
  if (!head)
    return answer_oldest(watches_waiting_, std::move(head.error()));
  return answer_oldest(watches_waiting_,
                       kube::watch_opening{std::move(*head), nullptr});
}

bool fake_lister_watcher::answer_get(caf::expected<kube::response> answer) {
  return answer_oldest(gets_waiting_, std::move(answer));
}

void fake_api_source::discover(
  std::function<void(caf::expected<std::vector<api_resource>>)> done) {
  ++discoveries;
  waiting_.push_back(std::move(done));
}

std::shared_ptr<kube::lister_watcher>
fake_api_source::lister_watcher_for(const resource_type& type,
                                    const kube::selection&) {
  auto result = std::make_shared<fake_lister_watcher>();
  sources[type.group_resource()].push_back(result);
  return result;
}

bool fake_api_source::answer_discovery(
  caf::expected<std::vector<api_resource>> answer) {
  return answer_oldest(waiting_, std::move(answer));
}

std::shared_ptr<fake_lister_watcher>
fake_api_source::source(const std::string& gr) const {
  auto i = sources.find(gr);
  return i == sources.end() || i->second.empty() ? nullptr : i->second.back();
}

kube::response list_page_answer(const std::vector<std::string>& items,
                                const std::string& resource_version,
                                const std::string& continue_token) {
  kube::response result;
  result.status = 200;
  result.body = fmt::format(
    R"({{"kind":"PodList","apiVersion":"v1","metadata":{{"resourceVersion":"{}","continue":"{}"}},"items":[{}]}})",
    resource_version, continue_token, fmt::join(items, ","));
  return result;
}

kube::response status_answer(unsigned code, const std::string& reason,
                             const std::string& message) {
  kube::response result;
  result.status = code;
  result.body = fmt::format(
    R"({{"kind":"Status","apiVersion":"v1","status":"Failure","message":"{}","reason":"{}","code":{}}})",
    message, reason, code);
  return result;
}

kube::watch_chunk events_read(std::vector<watch_event> events,
                              int64_t received_ns) {
  kube::watch_chunk result;
  result.events = std::move(events);
  result.received_ns = received_ns;
  return result;
}

kube::watch_chunk stream_end(kube::stream_state state, caf::error err) {
  kube::watch_chunk result;
  result.state = state;
  result.error = std::move(err);
  return result;
}

} // namespace kws::test
