// Health and readiness reports.
#pragma once

#include "messages/resource_type.hpp"
#include "messages/watch_filter.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kws {

/// The state of one watcher as discovery reports it.
struct watcher_status {
  resource_type type;
  /// True once the first list completed (client-go's HasSynced).
  bool synced = false;
  /// The last error, "" while healthy.
  std::string last_error;
  /// How often the watch was restarted.
  uint64_t restarts = 0;
  /// True while the apiserver refuses the type (403, 404): it is retried,
  /// but readiness does not wait for it.
  bool refused = false;
  /// True while the oldest change received from the watch stream and not
  /// yet durable is older than the configured limit.
  bool behind = false;
  /// Age of that change in milliseconds when last reported (0 caught up).
  int64_t lag_ms = 0;
  /// What of the type is recorded (set by DISCOVERY). The initializer lets
  /// the statuses built as `{type, synced, error, restarts}` leave it out.
  watch_filter filter = {};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watcher_status& x) {
  return f(caf::meta::type_name("kws.watcher_status"), x.type, x.synced,
           x.last_error, x.restarts, x.refused, x.behind, x.lag_ms, x.filter);
}

/// Readiness of the ingest side: ready once every watcher synced; degraded
/// while a watcher is behind its stream.
struct readiness {
  bool ready = false;
  bool degraded = false;
  std::vector<watcher_status> watchers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, readiness& x) {
  return f(caf::meta::type_name("kws.readiness"), x.ready, x.degraded,
           x.watchers);
}

} // namespace kws
