// A poll is stored before its offsets are committed, and each store keeps,
// in the same write as the records, the id of the newest record it holds
// from each partition. A crash between the write and the commit replays
// records the marks then pass over; a record its server sent twice is
// passed over the same way.
#include "actors/hub_ingest.hpp"

#include "actors/discovery.hpp"
#include "storage/rocks_store.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"
#include "util/thread_name.hpp"

#include <caf/stateful_actor.hpp>

#include <type_traits>

namespace kws {

static_assert(!std::is_aggregate_v<hub_ingest_state>);

namespace {

struct hub_metrics {
  metrics::counter& stored = metrics::get_counter(
    "kws_hub_records_total", "Records stored from the export topic.");
  metrics::counter& repeated = metrics::get_counter(
    "kws_hub_repeated_records_total",
    "Records received again (replays, records sent twice) and passed over.");
  metrics::counter& other = metrics::get_counter(
    "kws_hub_other_cluster_records_total",
    "Records of clusters this hub does not serve, passed over.");
  metrics::counter& unreadable = metrics::get_counter(
    "kws_hub_unreadable_records_total",
    "Messages of the topic that are no record, passed over.");
  metrics::counter& commit_failures = metrics::get_counter(
    "kws_hub_commit_failures_total",
    "Offset commits that failed (the records are stored; a replay of them "
    "is passed over).");
  metrics::histogram& delay = metrics::get_histogram(
    "kws_hub_delay_seconds",
    "From a change being recorded by its server to the hub storing it.");
};

hub_metrics& counters() {
  static hub_metrics m;
  return m;
}

} // namespace

void hub_ingest_state::publish_types(const std::string& cluster) {
  const auto& sink = clusters.at(cluster).catalog_sink;
  if (!sink)
    return;
  std::vector<resource_type> known;
  for (const auto& [gr, rt] : types[cluster])
    known.push_back(rt);
  self->send(sink, kube::stored_catalog(known));
}

caf::expected<bool> hub_ingest_state::round() {
  auto& m = counters();
  auto polled = poll(config.batch_size, config.poll_wait);
  if (!polled)
    return polled.error();
  if (polled->empty())
    return false;
  // Marks of partitions seen for the first time, from each store.
  for (const auto& msg : *polled)
    for (auto& [name, marks] : held)
      if (!marks.contains(msg.partition)) {
        auto at = clusters.at(name).store->export_cursor(
          storage::hub_cursor_name(config.topic, msg.partition));
        if (!at)
          return at.error();
        marks[msg.partition] = *at;
      }
  auto batch = storage::plan_hub_batch(*polled, held);
  for (const auto& line : batch.unreadable)
    KWS_ERROR("hub passes over a message of topic {}: {}", config.topic, line);
  m.unreadable.inc(batch.unreadable.size());
  m.other.inc(batch.other_clusters);
  m.repeated.inc(batch.repeated);
  const auto now = config.now();
  for (auto& [name, b] : batch.clusters) {
    storage::cursor_map cursors;
    for (const auto& [partition, mark] : b.marks)
      cursors[storage::hub_cursor_name(config.topic, partition)] = mark;
    auto written = clusters.at(name).store->write(b.events, b.checkpoints,
                                                  b.gaps, cursors);
    if (!written)
      return written.error();
    // After the records: their write noted this hub's time for a type new
    // to it, which the server's earlier one replaces.
    if (auto err
        = clusters.at(name).store->note_first_watch_times(b.first_watched))
      return err;
    m.stored.inc(written->written);
    m.repeated.inc(written->dropped);
    for (const auto& ev : b.events)
      m.delay.observe(static_cast<double>(now - ev.timestamp_ns) / 1e9);
    for (const auto& [partition, mark] : b.marks)
      held[name][partition] = mark;
    bool new_type = false;
    for (auto& [gr, rt] : b.types)
      new_type |= types[name].try_emplace(gr, std::move(rt)).second;
    if (new_type)
      publish_types(name);
  }
  if (auto err = commit(*polled)) {
    m.commit_failures.inc();
    KWS_WARN("hub stored {} messages but could not commit their offsets: {}",
             polled->size(), err);
  }
  return true;
}

hub_ingest_actor::behavior_type
hub_ingest(hub_ingest_actor::stateful_pointer<hub_ingest_state> self,
           hub_ingest_config cfg, std::map<std::string, hub_cluster> clusters,
           hub_poll poll, hub_commit commit) {
  if (self->getf(caf::abstract_actor::is_detached_flag))
    name_this_thread("kws.hub");
  auto& st = self->state;
  st.config = std::move(cfg);
  st.clusters = std::move(clusters);
  st.poll = std::move(poll);
  st.commit = std::move(commit);
  for (const auto& [name, c] : st.clusters) {
    st.held[name];
    auto stored = stored_types(*c.store);
    if (!stored)
      KWS_WARN("hub cannot list the types stored of cluster {}: {}", name,
               stored.error());
    else
      for (auto& rt : *stored)
        st.types[name].try_emplace(rt.group_resource(), std::move(rt));
    st.publish_types(name);
  }
  KWS_INFO("hub consumes topic {} for {} clusters", st.config.topic,
           st.clusters.size());
  self->send(self, atom::internal_v, atom::tick_v);
  self->send(self, atom::internal_v, atom::retention_v);
  return {
    [self](atom::internal, atom::tick) {
      auto polled = self->state.round();
      if (!polled) {
        KWS_ERROR("hub stops consuming: {}", polled.error());
        self->quit(polled.error());
      } else if (*polled) {
        self->send(self, atom::internal_v, atom::tick_v);
      } else {
        self->delayed_send(self, self->state.config.idle_wait, atom::internal_v,
                           atom::tick_v);
      }
    },
    [self](atom::internal, atom::retention) {
      auto& st = self->state;
      for (const auto& [name, c] : st.clusters) {
        auto dropped
          = c.store->drop_expired(st.config.now(), st.config.retention_days);
        if (!dropped)
          KWS_ERROR("hub cannot drop expired days of cluster {}: {}", name,
                    dropped.error());
        else if (*dropped > 0)
          KWS_INFO("hub dropped {} expired days of cluster {}", *dropped, name);
      }
      self->delayed_send(self, st.config.retention_interval, atom::internal_v,
                         atom::retention_v);
    },
  };
}

} // namespace kws
