// INDEX answers the HTTP handler's queries from the store, which RocksDB lets
// it read while STORAGE writes. An unknown object or id is an answer, not an
// error.
#include "actors/index.hpp"

#include "storage/rocks_store.hpp"
#include "util/thread_name.hpp"

#include <caf/stateful_actor.hpp>

#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<index_state>);

namespace {

/// A store answer as the reply: an unknown object or id is a `found ==
/// false` answer (404), not an error the handler would log.
caf::result<json_answer> answer(caf::expected<json_answer> x) {
  if (x)
    return std::move(*x);
  if (x.error() == ec::not_found) {
    json_answer missing;
    missing.found = false;
    missing.body = error_detail(x.error());
    return missing;
  }
  return x.error();
}

} // namespace

index_actor::behavior_type
index(index_actor::stateful_pointer<index_state> self,
      std::shared_ptr<storage::rocks_store> store) {
  if (self->getf(caf::abstract_actor::is_detached_flag))
    name_this_thread("kws.index"); // its own thread, for top -H and perf
  self->state.store = std::move(store);
  return {
    // One page of `GET /api/v1/events`.
    [self](const event_query& q) -> caf::result<event_page> {
      auto result = self->state.store->query(q);
      if (!result)
        return result.error();
      return std::move(*result);
    },
    // The history of one object.
    [self](const history_query& q) -> caf::result<object_history> {
      auto result = self->state.store->history(q);
      if (!result)
        return result.error();
      return std::move(*result);
    },
    // The coverage gaps overlapping a window.
    [self](const coverage_query& q) -> caf::result<std::vector<coverage_gap>> {
      auto result = self->state.store->coverage(q);
      if (!result)
        return result.error();
      return std::move(*result);
    },
    // How many of them are of one type.
    [self](const gap_count_query& q) -> caf::result<uint64_t> {
      auto result = self->state.store->count_gaps(q);
      if (!result)
        return result.error();
      return *result;
    },
    // One record by id.
    [self](const record_query& q) -> caf::result<json_answer> {
      return answer(self->state.store->record(q));
    },
    // The patch between two versions of an object.
    [self](const diff_query& q) -> caf::result<json_answer> {
      return answer(self->state.store->diff(q));
    },
    // Who last changed each field of an object.
    [self](const blame_query& q) -> caf::result<json_answer> {
      return answer(self->state.store->blame(q));
    },
    // Every object as it was at a moment.
    [self](const snapshot_query& q) -> caf::result<json_answer> {
      return answer(self->state.store->snapshot(q));
    },
    // One entry per object changed in a window.
    [self](const changes_query& q) -> caf::result<json_answer> {
      return answer(self->state.store->changes(q));
    },
  };
}

} // namespace kws
