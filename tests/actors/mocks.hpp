// Mock peers implementing full actor interfaces. Each records what it
// received; handlers a test does not expect report a failure.
#pragma once

#include "actors/interfaces.hpp"

#include <caf/stateful_actor.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace kws::test {

/// What the mock STORAGE saw; shared with the test.
struct storage_log {
  std::vector<ingest_batch> batches;
  std::vector<live_object> live;
  watch_checkpoint checkpoint;
  std::vector<std::string> backups;
  /// The backup root each backup was asked with.
  std::vector<std::string> backup_roots;
  /// When set, ingest batches are answered with this error.
  caf::error fail_with;
};

struct mock_storage_state {
  explicit mock_storage_state(storage_actor::pointer) {}
  std::shared_ptr<storage_log> log;
  static inline const char* name = "mock-storage";
};

inline storage_actor::behavior_type
mock_storage(storage_actor::stateful_pointer<mock_storage_state> self,
             std::shared_ptr<storage_log> log) {
  self->state.log = log;
  return {
    [self](ingest_batch& batch) -> caf::result<atom::ok> {
      self->state.log->batches.push_back(batch);
      if (self->state.log->fail_with)
        return self->state.log->fail_with;
      return atom::ok_v;
    },
    [](atom::flush) -> uint64_t { return 0; },
    [self](atom::live, const std::string&) { return self->state.log->live; },
    [self](atom::checkpoint, const std::string&) {
      return self->state.log->checkpoint;
    },
    [self](atom::backup, const std::string& dir,
           const std::string& root) -> std::string {
      self->state.log->backups.push_back(dir);
      self->state.log->backup_roots.push_back(root);
      return dir;
    },
    [](atom::internal, atom::flush, uint64_t) {
      ADD_FAILURE() << "unexpected internal flush";
    },
    [](atom::internal, atom::retention) {
      ADD_FAILURE() << "unexpected retention";
    },
    [](atom::internal, atom::tick) { ADD_FAILURE() << "unexpected tick"; },
  };
}

/// What the mock INDEX answers.
struct index_log {
  std::vector<event_query> queries;
  std::vector<history_query> histories;
  std::vector<coverage_query> coverage_queries;
  /// The `resource` of each gap count asked (its window is in
  /// `coverage_queries`).
  std::vector<std::string> gap_count_resources;
  std::vector<record_query> records;
  std::vector<diff_query> diffs;
  std::vector<blame_query> blames;
  std::vector<snapshot_query> snapshots;
  std::vector<changes_query> changes;
  /// The answer to every record, diff, blame, snapshot and changes query.
  json_answer answer;
  event_page page;
  std::vector<coverage_gap> gaps;
  object_history history;
  /// When true, queries are never answered (to test timeouts).
  bool hang = false;
};

struct mock_index_state {
  explicit mock_index_state(index_actor::pointer) {}
  std::shared_ptr<index_log> log;
  std::vector<caf::typed_response_promise<event_page>> parked;
  static inline const char* name = "mock-index";
};

inline index_actor::behavior_type
mock_index(index_actor::stateful_pointer<mock_index_state> self,
           std::shared_ptr<index_log> log) {
  self->state.log = log;
  return {
    [self](event_query& q) -> caf::result<event_page> {
      self->state.log->queries.push_back(q);
      if (self->state.log->hang) {
        auto rp = self->make_response_promise<event_page>();
        self->state.parked.push_back(rp);
        return rp;
      }
      return self->state.log->page;
    },
    [self](history_query& q) -> object_history {
      self->state.log->histories.push_back(q);
      return self->state.log->history;
    },
    [self](coverage_query& q) -> std::vector<coverage_gap> {
      self->state.log->coverage_queries.push_back(q);
      return self->state.log->gaps;
    },
    [self](gap_count_query& q) -> uint64_t {
      auto& log = *self->state.log;
      log.coverage_queries.push_back(q.window);
      log.gap_count_resources.push_back(q.resource);
      return static_cast<uint64_t>(std::count_if(
        log.gaps.begin(), log.gaps.end(),
        [&](const coverage_gap& g) { return gap_of(g, q.resource); }));
    },
    [self](record_query& q) -> json_answer {
      self->state.log->records.push_back(q);
      return self->state.log->answer;
    },
    [self](diff_query& q) -> json_answer {
      self->state.log->diffs.push_back(q);
      return self->state.log->answer;
    },
    [self](blame_query& q) -> json_answer {
      self->state.log->blames.push_back(q);
      return self->state.log->answer;
    },
    [self](snapshot_query& q) -> json_answer {
      self->state.log->snapshots.push_back(q);
      return self->state.log->answer;
    },
    [self](changes_query& q) -> json_answer {
      self->state.log->changes.push_back(q);
      return self->state.log->answer;
    },
  };
}

/// What the mock DISCOVERY answers.
struct discovery_log {
  readiness ready;
  std::vector<resource_type> types;
  std::vector<watcher_status> reports;
  std::vector<watch_settings> settings;
  /// Catalog sinks added.
  int sinks = 0;
};

struct mock_discovery_state {
  explicit mock_discovery_state(discovery_actor::pointer) {}
  std::shared_ptr<discovery_log> log;
  static inline const char* name = "mock-discovery";
};

inline discovery_actor::behavior_type
mock_discovery(discovery_actor::stateful_pointer<mock_discovery_state> self,
               std::shared_ptr<discovery_log> log) {
  self->state.log = log;
  return {
    [self](atom::status) { return self->state.log->ready; },
    [self](atom::resolve,
           const std::string& name) -> caf::result<resource_type> {
      for (auto& t : self->state.log->types)
        if (t.plural == name || t.kind == name)
          return t;
      return caf::make_error(ec::invalid_argument, "resourceType",
                             "unknown resource type '" + name + "'");
    },
    [self](atom::add, catalog_sink_actor&) { ++self->state.log->sinks; },
    [self](watcher_status& st) { self->state.log->reports.push_back(st); },
    [self](watch_settings& next) {
      self->state.log->settings.push_back(std::move(next));
      return atom::ok_v;
    },
    [](atom::internal, std::vector<api_resource>&) {
      ADD_FAILURE() << "unexpected discovery result";
    },
    [](atom::internal, reflector_input&) {
      ADD_FAILURE() << "unexpected reflector input";
    },
    [](atom::internal, atom::failed, caf::error&) {
      ADD_FAILURE() << "unexpected failure";
    },
    [](atom::internal, atom::tick, uint64_t) {
      ADD_FAILURE() << "unexpected tick";
    },
    [](atom::internal, atom::start, std::string&) {
      ADD_FAILURE() << "unexpected start";
    },
  };
}

/// Captures the response a handler delivers.
struct capture_responder : responder {
  std::optional<http_response> response;
  void deliver(http_response res) override {
    if (response)
      ADD_FAILURE() << "responder called twice";
    response = std::move(res);
  }
};

} // namespace kws::test
