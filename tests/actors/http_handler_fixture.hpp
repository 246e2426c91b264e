// The HTTP HANDLER with mock INDEX, DISCOVERY and STORAGE on the
// deterministic scheduler, shared by its test files.
#pragma once

#include "actors/http_handler.hpp"
#include "actors/http_relay.hpp"
#include "tests/actors/mocks.hpp"
#include "tests/support/deterministic_fixture.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kws::test {

struct http_handler_test : deterministic_fixture {
  std::shared_ptr<index_log> idx = std::make_shared<index_log>();
  std::shared_ptr<discovery_log> disc = std::make_shared<discovery_log>();
  index_actor index = sys.spawn(mock_index, idx);
  discovery_actor discovery = sys.spawn(mock_discovery, disc);
  std::shared_ptr<storage_log> store = std::make_shared<storage_log>();
  storage_actor storage = sys.spawn(mock_storage, store);
  http_handler_actor aut;
  /// Requests whose answer comes later go through the relay, as the REST
  /// server's do, so that several can wait at once.
  http_relay_actor relay;

  void SetUp() override { start({index}); }

  void start(std::vector<index_actor> indexes) {
    http_handler_config cfg;
    cfg.max_query_limit = 500;
    cfg.timeout = std::chrono::seconds{2};
    cfg.backup_root = "/backups";
    aut = sys.spawn(http_handler, cfg, std::move(indexes), discovery, storage,
                    access_actor{});
    relay = sys.spawn(http_relay, aut);
    disc->types = {{"", "v1", "Pod", "pods", true},
                   {"apps", "v1", "Deployment", "deployments", true}};
  }

  void TearDown() override {
    // The parked reply of a stuck index ties handler and index together;
    // exits end both.
    for (const auto& hdl :
         {caf::actor_cast<caf::actor>(relay), caf::actor_cast<caf::actor>(aut),
          caf::actor_cast<caf::actor>(index),
          caf::actor_cast<caf::actor>(discovery),
          caf::actor_cast<caf::actor>(storage)})
      self->send_exit(hdl, caf::exit_reason::user_shutdown);
    run();
  }

  /// Sends `path?query` without waiting; the response lands in the result.
  std::shared_ptr<capture_responder>
  send(const std::string& path, std::vector<std::string> names = {},
       std::vector<std::string> values = {}) {
    auto rp = std::make_shared<capture_responder>();
    self->send(
      relay,
      http_request{"GET", path, std::move(names), std::move(values), true},
      responder_ptr{rp});
    return rp;
  }

  /// Asks `path?query` and returns the reply once it arrived.
  std::optional<http_response> call(const std::string& path,
                                    std::vector<std::string> names = {},
                                    std::vector<std::string> values = {},
                                    const std::string& method = "GET") {
    return ask(
      http_request{method, path, std::move(names), std::move(values), true});
  }

  /// Asks the handler `req` with a plain request; the reply, if any arrived
  /// once the mailboxes are drained.
  std::optional<http_response> ask(http_request req) {
    auto handle = self->request(aut, caf::infinite, std::move(req));
    run();
    auto reply = try_collect<http_response>(handle);
    if (!reply)
      return std::nullopt;
    if (!*reply) {
      ADD_FAILURE() << "the handler failed: " << render(reply->error());
      return std::nullopt;
    }
    return std::move(**reply);
  }
};

} // namespace kws::test
