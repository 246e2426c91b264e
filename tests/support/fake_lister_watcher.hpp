// A scripted transport for reflectors: records what is asked and answers
// only when the test says so, synchronously on the test's thread, so actor
// tests under the deterministic fixture decide every interleaving.
#pragma once

#include "kube/api_source.hpp"
#include "kube/lister_watcher.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kws::test {

/// A watch stream fed by the test.
class fake_watch_stream : public kube::watch_stream {
public:
  void read(std::function<void(kube::watch_chunk)> done) override;
  void close() override;

  /// Hands `chunk` to the waiting read, or keeps it for the next one.
  void push(kube::watch_chunk chunk);

  /// True while a read waits for a chunk.
  bool reading() const { return static_cast<bool>(waiting_); }

  bool closed = false;

private:
  void hand_over();

  std::deque<kube::watch_chunk> queued_;
  std::function<void(kube::watch_chunk)> waiting_;
};

class fake_lister_watcher : public kube::lister_watcher {
public:
  void list(kube::list_request req,
            std::function<void(caf::expected<kube::response>)> done) override;
  void
  watch(kube::watch_request req,
        std::function<void(caf::expected<kube::watch_opening>)> done) override;
  void get(std::string path,
           std::function<void(caf::expected<kube::response>)> done) override;
  std::string describe() const override { return "fake:6443/api/v1/pods"; }

  /// Answers the oldest waiting list request; false when none waits.
  bool answer_list(caf::expected<kube::response> answer);

  /// Opens the oldest waiting watch (status 200): its stream becomes
  /// `stream`. False when none waits.
  bool open_watch();

  /// Answers the oldest waiting watch with a head that is not 200, or a
  /// transport error.
  bool refuse_watch(caf::expected<kube::response> head);

  /// Answers the oldest waiting get.
  bool answer_get(caf::expected<kube::response> answer);

  size_t waiting_lists() const { return lists_waiting_.size(); }
  size_t waiting_watches() const { return watches_waiting_.size(); }

  /// Every request, in order.
  std::vector<kube::list_request> lists;
  std::vector<kube::watch_request> watches;
  std::vector<std::string> gets;
  /// The stream of the last opened watch.
  std::shared_ptr<fake_watch_stream> stream;

private:
  std::deque<std::function<void(caf::expected<kube::response>)>> lists_waiting_;
  std::deque<std::function<void(caf::expected<kube::watch_opening>)>>
    watches_waiting_;
  std::deque<std::function<void(caf::expected<kube::response>)>> gets_waiting_;
};

/// A scripted apiserver for DISCOVERY: discovery runs wait for the test's
/// answer, and every watched type gets a fake transport of its own.
class fake_api_source : public kube::api_source {
public:
  void discover(std::function<void(caf::expected<std::vector<api_resource>>)>
                  done) override;
  std::shared_ptr<kube::lister_watcher>
  lister_watcher_for(const resource_type& type,
                     const kube::selection& filter) override;

  /// Answers the oldest waiting discovery run.
  bool answer_discovery(caf::expected<std::vector<api_resource>> answer);

  size_t discoveries = 0;
  /// The transports handed out, by `group_resource`, oldest first.
  std::map<std::string, std::vector<std::shared_ptr<fake_lister_watcher>>>
    sources;

  /// The newest transport of `group_resource` (null when there is none).
  std::shared_ptr<fake_lister_watcher> source(const std::string& gr) const;

private:
  std::deque<std::function<void(caf::expected<std::vector<api_resource>>)>>
    waiting_;
};

/// A list page answer (status 200).
kube::response list_page_answer(const std::vector<std::string>& items,
                                const std::string& resource_version,
                                const std::string& continue_token = "");

/// An apiserver Status answer, e.g. 410 "Expired".
kube::response status_answer(unsigned code, const std::string& reason,
                             const std::string& message = "");

/// A read of watch events, received at `received_ns`.
kube::watch_chunk events_read(std::vector<watch_event> events,
                              int64_t received_ns = 0);

/// A read that ends the stream the way `state` says.
kube::watch_chunk stream_end(kube::stream_state state, caf::error err = {});

} // namespace kws::test
