// The reflector's rules. Phases: list (pages) → [ack of the list] → watch
// (open → read → deliver → read ...). A phase change increments `gen_`, so
// answers of an abandoned request are ignored. Failures go through `fail`,
// which reports, picks a delay and waits before a relist or a re-watch.
#include "kube/reflector_machine.hpp"

#include "kube/wire.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace kws::kube {

namespace {

/// A watch ending this soon without events counts as a failure.
constexpr auto very_short_watch = std::chrono::seconds{1};

/// A watch ending this long before its timeout was ended by the apiserver.
constexpr auto early_end_margin = std::chrono::seconds{5};

backoff_policy make_policy(const reflector_settings& s) {
  backoff_policy result;
  result.initial = s.initial_backoff;
  result.cap = s.max_backoff;
  result.reset_after = s.backoff_reset;
  return result;
}

} // namespace

reflector_machine::reflector_machine(resource_type type, std::string where,
                                     reflector_settings settings)
    : type_(std::move(type)), where_(std::move(where)), settings_(settings),
      backoff_(make_policy(settings_)), rng_(settings_.seed) {}

reflector_commands reflector_machine::start(time_point now,
                                            std::string resume_rv) {
  reflector_commands out;
  if (started_ || stopped_)
    return out;
  started_ = true;
  if (resume_rv.empty()) {
    do_list(out);
  } else {
    last_sync_rv_ = std::move(resume_rv);
    do_watch(now, out);
  }
  return out;
}

reflector_commands reflector_machine::stop() {
  reflector_commands out;
  if (stopped_)
    return out;
  stopped_ = true;
  ++gen_;
  held_ = held::nothing;
  out.emplace_back(command::close_watch{});
  return out;
}

bool reflector_machine::window_open() const {
  return unacked_lists_ == 0 && unacked_events_ < settings_.max_unacked_events
    && unacked_bytes_ < settings_.max_unacked_bytes;
}

reflector_commands reflector_machine::ack(time_point now, size_t deliveries) {
  reflector_commands out;
  for (size_t i = 0; i < deliveries && !unacked_.empty(); ++i) {
    const auto& front = unacked_.front();
    unacked_events_ -= front.events;
    unacked_bytes_ -= front.bytes;
    if (front.list)
      --unacked_lists_;
    unacked_.pop_front();
  }
  if (stopped_ || held_ == held::nothing || !window_open())
    return out;
  auto what = std::exchange(held_, held::nothing);
  if (what == held::watch)
    do_watch(now, out);
  else
    out.emplace_back(command::read_more{gen_});
  return out;
}

// -- list ---------------------------------------------------------------------

void reflector_machine::do_list(reflector_commands& out) {
  ++gen_;
  held_ = held::nothing;
  out.emplace_back(command::close_watch{});
  // client-go: RV "0" (any, from the watch cache) first, later relists at
  // the last synced RV (not older than), RV "" (consistent) when the RV is
  // unavailable. Only "" and "0" lists are paged: a limit with RV=N would
  // force the legacy exact semantics and an etcd read.
  list_rv_ = rv_unavailable_ ? "" : last_sync_rv_.empty() ? "0" : last_sync_rv_;
  paginate_ = (list_rv_.empty() || list_rv_ == "0") && settings_.page_size > 0;
  listed_ = {};
  ++counts_.lists;
  request_page(out, {});
}

void reflector_machine::request_page(reflector_commands& out,
                                     std::string continue_token) {
  command::list_page cmd;
  cmd.gen = gen_;
  cmd.request.limit = paginate_ ? settings_.page_size : 0;
  // Continue pages must not repeat resourceVersion (400/422).
  if (continue_token.empty())
    cmd.request.resource_version = list_rv_;
  continuing_ = !continue_token.empty();
  cmd.request.continue_token = std::move(continue_token);
  out.emplace_back(std::move(cmd));
}

reflector_commands reflector_machine::page(time_point now, uint64_t gen,
                                           caf::expected<response> answer) {
  reflector_commands out;
  if (stopped_ || gen != gen_)
    return out;
  if (!answer) {
    fail(now, answer.error(), next_step::relist, out);
    return out;
  }
  auto& res = *answer;
  if (res.status == 200) {
    auto parsed = parse_list_page(res.body, type_.kind);
    if (!parsed) {
      fail(now,
           caf::make_error(ec::parse_error,
                           fmt::format("list of {}: {}", type_.group_resource(),
                                       render(parsed.error()))),
           next_step::relist, out);
      return out;
    }
    if (listed_.items.empty())
      listed_.items = std::move(parsed->items);
    else
      std::move(parsed->items.begin(), parsed->items.end(),
                std::back_inserter(listed_.items));
    listed_.resource_version = std::move(parsed->resource_version);
    if (!parsed->continue_token.empty()) {
      request_page(out, std::move(parsed->continue_token));
      return out;
    }
    rv_unavailable_ = false;
    last_sync_rv_ = listed_.resource_version;
    deliver_list(out);
    return out;
  }
  auto status = parse_status(res.body, static_cast<int>(res.status));
  auto err = status_error(res, "GET", where_, "");
  if (status.is_expired() && continuing_) {
    // The continue token outlived compaction: one unpaginated list at the
    // original RV gives a consistent snapshot (client-go's pager).
    paginate_ = false;
    listed_ = {};
    request_page(out, {});
    return out;
  }
  if ((status.is_expired() || status.is_too_large_resource_version())
      && !rv_unavailable_) {
    // The RV is gone (or not there yet): a consistent list at RV "".
    rv_unavailable_ = true;
    report(std::move(err), out);
    do_list(out);
    return out;
  }
  if (res.status == 429) {
    fail(now, std::move(err), next_step::relist, out, retry_delay(now, res));
    return out;
  }
  fail(now, std::move(err), next_step::relist, out);
  return out;
}

void reflector_machine::deliver_list(reflector_commands& out) {
  delivery d{listed_.items.size(), 0, true};
  for (const auto& item : listed_.items)
    d.bytes += item.size();
  unacked_.push_back(d);
  unacked_events_ += d.events;
  unacked_bytes_ += d.bytes;
  ++unacked_lists_;
  // The watch starts once the list is acknowledged, so its records are
  // stored before any event that follows it.
  held_ = held::watch;
  out.emplace_back(command::deliver_list{std::exchange(listed_, {})});
}

// -- watch --------------------------------------------------------------------

void reflector_machine::do_watch(time_point now, reflector_commands& out) {
  ++gen_;
  held_ = held::nothing;
  out.emplace_back(command::close_watch{});
  auto min = settings_.min_watch_timeout.count();
  std::uniform_int_distribution<int64_t> dist{min, std::max(min, 2 * min - 1)};
  watch_timeout_ = std::chrono::seconds{dist(rng_)};
  watch_started_ = now;
  stream_events_ = 0;
  ++counts_.watches;
  command::open_watch cmd;
  cmd.gen = gen_;
  cmd.request.resource_version = last_sync_rv_;
  cmd.request.bookmarks = settings_.allow_watch_bookmarks;
  cmd.request.timeout = watch_timeout_;
  cmd.request.idle_timeout = settings_.idle_timeout;
  cmd.request.grace = settings_.watch_grace;
  out.emplace_back(std::move(cmd));
}

reflector_commands reflector_machine::opened(time_point now, uint64_t gen,
                                             caf::expected<response> head) {
  reflector_commands out;
  if (stopped_ || gen != gen_)
    return out;
  if (!head) {
    // Connection refused and the like: the server may be restarting; back
    // off, keep the RV.
    fail(now, head.error(), next_step::rewatch, out);
    return out;
  }
  if (head->status == 200) {
    watch_started_ = now;
    out.emplace_back(command::read_more{gen_});
    return out;
  }
  auto err = status_error(*head, "GET", where_, "");
  if (head->status == 429) {
    fail(now, std::move(err), next_step::rewatch, out, retry_delay(now, *head));
    return out;
  }
  // 410 at watch start, 504 too-large RV, 401/403/404/5xx: back off and
  // relist (the relist at the last RV falls back to RV "" if needed).
  fail(now, std::move(err), next_step::relist, out);
  return out;
}

reflector_commands reflector_machine::chunk(time_point now, uint64_t gen,
                                            watch_chunk chunk) {
  reflector_commands out;
  if (stopped_ || gen != gen_)
    return out;
  if (!chunk.events.empty())
    last_sync_rv_ = chunk.events.back().resource_version;
  stream_events_ += chunk.events.size();
  counts_.events += chunk.events.size();
  bool delivered = !chunk.events.empty();
  if (delivered)
    deliver_events(std::move(chunk.events), chunk.received_ns, out);
  switch (chunk.state) {
    case stream_state::open:
      // Reading on while the consumer works is what lets events that arrive
      // during one stored batch go out together in the next.
      if (!delivered || window_open())
        out.emplace_back(command::read_more{gen_});
      else
        held_ = held::read;
      break;
    case stream_state::closed:
    case stream_state::broken:
      stream_end(now, std::move(chunk.error), out);
      break;
    case stream_state::stopped: {
      // Never take an RV from a Status; 429 re-watches, the rest relists.
      auto step = chunk.error == ec::too_many_requests ? next_step::rewatch
                                                       : next_step::relist;
      fail(now, std::move(chunk.error), step, out);
      break;
    }
  }
  return out;
}

void reflector_machine::deliver_events(std::vector<watch_event> events,
                                       int64_t received_ns,
                                       reflector_commands& out) {
  delivery d{events.size(), 0, false};
  for (const auto& ev : events)
    d.bytes += ev.object.size();
  unacked_.push_back(d);
  unacked_events_ += d.events;
  unacked_bytes_ += d.bytes;
  out.emplace_back(command::deliver_events{std::move(events), received_ns});
}

void reflector_machine::stream_end(time_point now, caf::error err,
                                   reflector_commands& out) {
  auto lived = now - watch_started_;
  if (lived < very_short_watch && stream_events_ == 0) {
    if (!err)
      err = caf::make_error(
        ec::transport_error,
        fmt::format("watch of {} ended after {} ms without events",
                    type_.group_resource(),
                    std::chrono::duration_cast<std::chrono::milliseconds>(lived)
                      .count()));
    fail(now, std::move(err), next_step::relist, out);
    return;
  }
  // The re-watch below resumes without loss unless the resourceVersion has
  // expired meanwhile (then a 410 relists and the watcher records the gap).
  if (lived + early_end_margin < watch_timeout_) {
    ++counts_.early_ends;
    out.emplace_back(command::ended_early{
      std::chrono::duration_cast<std::chrono::seconds>(lived), watch_timeout_,
      last_sync_rv_, err});
  }
  if (err)
    report(std::move(err), out);
  // A clean end (server timeout) or a broken connection: re-watch at once
  // from the last RV, as client-go does.
  do_watch(now, out);
}

// -- failures -----------------------------------------------------------------

void reflector_machine::report(caf::error err, reflector_commands& out) {
  ++counts_.errors;
  out.emplace_back(command::report{std::move(err)});
}

std::chrono::milliseconds reflector_machine::retry_delay(time_point now,
                                                         const response& res) {
  return res.retry_after ? std::chrono::milliseconds{*res.retry_after}
                         : next_backoff(now);
}

std::chrono::milliseconds reflector_machine::next_backoff(time_point now) {
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  return backoff_.next(now, unit(rng_));
}

void reflector_machine::fail(time_point now, caf::error err, next_step step,
                             reflector_commands& out,
                             std::chrono::milliseconds delay) {
  ++gen_;
  held_ = held::nothing;
  out.emplace_back(command::close_watch{});
  report(std::move(err), out);
  if (delay.count() < 0)
    delay = next_backoff(now);
  after_wait_ = step;
  out.emplace_back(command::wait{gen_, delay});
}

reflector_commands reflector_machine::timer(time_point now, uint64_t gen) {
  reflector_commands out;
  if (stopped_ || gen != gen_)
    return out;
  if (after_wait_ == next_step::relist)
    do_list(out);
  else
    do_watch(now, out);
  return out;
}

} // namespace kws::kube
