// The reflector's state machine; everything but start/ack/stop runs on the
// client's io thread.
//
// Phases: list (pages) → [await ack of on_list] → watch (open stream →
// read → split → parse → [await ack of on_events] → read ...). A phase
// change increments `gen_`, so completions of an abandoned request are
// ignored. Transitions on failure go through `fail`, which reports, picks a
// delay and schedules either a relist or a re-watch.
#include "kube/reflector.hpp"

#include "kube/client.hpp"
#include "kube/line_splitter.hpp"
#include "kube/wire.hpp"
#include "messages/logging.hpp"
#include "messages/metrics.hpp"

#include <fmt/format.h>

#include <utility>

namespace kws::kube {

namespace {

/// A watch ending this soon without events counts as a failure.
constexpr auto very_short_watch = std::chrono::seconds{1};

backoff_policy make_policy(const reflector_options& opts) {
  backoff_policy result;
  result.initial = opts.initial_backoff;
  result.cap = opts.max_backoff;
  result.reset_after = opts.backoff_reset;
  return result;
}

uint64_t make_seed(uint64_t seed) {
  if (seed != 0)
    return seed;
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

} // namespace

/// Per-stream parsing state.
struct reflector::stream_state {
  line_splitter splitter;
  /// Parsed events of the current piece, not yet delivered.
  std::vector<watch_event> batch;
  /// An ERROR event or a malformed line ended the stream.
  caf::error stop_error;
  next_step stop_step = next_step::relist;
  bool stop_requested = false;
};

reflector::reflector(std::shared_ptr<client> c, resource_type type,
                     reflector_options opts, reflector_callbacks callbacks)
    : client_(std::move(c)), type_(std::move(type)), opts_(std::move(opts)),
      callbacks_(std::move(callbacks)), backoff_(make_policy(opts_)),
      rng_(make_seed(opts_.seed)) {}

reflector::~reflector() = default;

std::shared_ptr<reflector> reflector::make(std::shared_ptr<client> c,
                                           resource_type type,
                                           reflector_options opts,
                                           reflector_callbacks callbacks) {
  return std::shared_ptr<reflector>(new reflector(
    std::move(c), std::move(type), std::move(opts), std::move(callbacks)));
}

std::string reflector::watch_query(const std::string& rv, bool bookmarks,
                                   std::chrono::seconds timeout) {
  auto result = fmt::format("watch=1&resourceVersion={}", url_encode(rv));
  if (bookmarks)
    result += "&allowWatchBookmarks=true";
  result += fmt::format("&timeoutSeconds={}", timeout.count());
  return result;
}

std::string reflector::list_query(const std::string& rv, uint32_t page_size,
                                  const std::string& continue_token) {
  std::string result;
  auto add = [&](std::string_view key, std::string_view value) {
    if (!result.empty())
      result += '&';
    result += key;
    result += '=';
    result += url_encode(value);
  };
  if (page_size > 0)
    add("limit", std::to_string(page_size));
  // Continue pages must not repeat resourceVersion (400/422).
  if (!continue_token.empty())
    add("continue", continue_token);
  else if (!rv.empty())
    add("resourceVersion", rv);
  return result;
}

void reflector::start(std::string resume_rv) {
  auto self = shared_from_this();
  client_->post([self, rv = std::move(resume_rv)]() mutable {
    if (self->started_)
      return;
    self->started_ = true;
    if (rv.empty()) {
      self->do_list();
    } else {
      self->last_sync_rv_ = std::move(rv);
      self->do_watch();
    }
  });
}

void reflector::ack(size_t deliveries) {
  auto self = shared_from_this();
  client_->post([self, deliveries] {
    for (size_t i = 0; i < deliveries && !self->unacked_.empty(); ++i) {
      auto& front = self->unacked_.front();
      self->unacked_events_ -= front.events;
      self->unacked_bytes_ -= front.bytes;
      if (front.list)
        --self->unacked_lists_;
      self->unacked_.pop_front();
    }
    if (!self->after_ack_ || !self->window_open())
      return;
    auto f = std::move(self->after_ack_);
    self->after_ack_ = nullptr;
    f();
  });
}

bool reflector::window_open() const {
  return unacked_lists_ == 0 && unacked_events_ < opts_.max_unacked_events
    && unacked_bytes_ < opts_.max_unacked_bytes;
}

void reflector::stop() {
  // Callbacks often own the reflector (directly or through their owner):
  // dropping them at stop breaks that cycle. Inside a callback the running
  // function must not be destroyed, so on the io thread they are dropped by
  // the posted step below instead.
  reflector_callbacks dropped;
  {
    std::lock_guard guard{callback_mtx_};
    if (stopped_)
      return;
    stopped_ = true;
    if (!client_->on_io_thread())
      dropped = std::exchange(callbacks_, {});
  }
  auto self = shared_from_this();
  client_->post_cleanup([self] {
    ++self->gen_;
    self->after_ack_ = nullptr;
    self->close_stream();
    if (self->timer_) {
      self->timer_->cancel();
      self->timer_.reset();
    }
    reflector_callbacks dropped;
    std::lock_guard guard{self->callback_mtx_};
    dropped = std::exchange(self->callbacks_, {});
  });
}

// -- list ---------------------------------------------------------------------

void reflector::do_list() {
  auto gen = ++gen_;
  close_stream();
  // client-go: RV "0" (any, from the watch cache) first, later relists at
  // the last synced RV (not older than), RV "" (consistent) when the RV is
  // unavailable. Only "" and "0" lists are paged: a limit with RV=N would
  // force the legacy exact semantics and an etcd read.
  std::string rv = rv_unavailable_ ? ""
    : last_sync_rv_.empty()        ? "0"
                                   : last_sync_rv_;
  bool paginate = (rv.empty() || rv == "0") && opts_.page_size > 0;
  ++stats_.lists;
  request_page(std::move(rv), paginate, {}, std::make_shared<list_result>(),
               gen);
}

void reflector::request_page(std::string rv, bool paginate,
                             std::string continue_token,
                             std::shared_ptr<list_result> acc, uint64_t gen) {
  auto target = opts_.filter.collection_path(type_) + "?"
    + list_query(rv, paginate ? opts_.page_size : 0, continue_token)
    + opts_.filter.query();
  KWS_TRACE("reflector {} lists {}", type_.group_resource(), target);
  request_options req;
  req.target = std::move(target);
  auto self = shared_from_this();
  client_->send(std::move(req),
                [self, rv = std::move(rv), paginate,
                 continue_token = std::move(continue_token), acc,
                 gen](caf::expected<response> res) mutable {
                  if (gen != self->gen_)
                    return;
                  if (!res) {
                    self->fail(res.error(), next_step::relist);
                    return;
                  }
                  self->on_page(std::move(rv), paginate, continue_token,
                                std::move(acc), gen, std::move(*res));
                });
}

void reflector::on_page(std::string rv, bool paginate,
                        const std::string& continue_token,
                        std::shared_ptr<list_result> acc, uint64_t gen,
                        response res) {
  if (res.status == 200) {
    auto page = parse_list_page(res.body, type_.kind);
    if (!page) {
      fail(caf::make_error(ec::parse_error,
                           fmt::format("list of {}: {}", type_.group_resource(),
                                       render(page.error()))),
           next_step::relist);
      return;
    }
    if (acc->items.empty())
      acc->items = std::move(page->items);
    else
      std::move(page->items.begin(), page->items.end(),
                std::back_inserter(acc->items));
    acc->resource_version = std::move(page->resource_version);
    if (!page->continue_token.empty()) {
      request_page(std::move(rv), paginate, std::move(page->continue_token),
                   std::move(acc), gen);
      return;
    }
    rv_unavailable_ = false;
    last_sync_rv_ = acc->resource_version;
    KWS_DEBUG("reflector {} listed {} items at resourceVersion {}",
              type_.group_resource(), acc->items.size(), last_sync_rv_);
    deliver_list(std::move(*acc));
    return;
  }
  auto status = parse_status(res.body, static_cast<int>(res.status));
  auto err = status_error(res, "GET", client_->authority(),
                          opts_.filter.collection_path(type_));
  if (status.is_expired() && !continue_token.empty()) {
    // The continue token outlived compaction: one unpaginated list at the
    // original RV gives a consistent snapshot (client-go's pager).
    KWS_DEBUG("reflector {} continue token expired, listing without paging",
              type_.group_resource());
    acc->items.clear();
    request_page(std::move(rv), false, {}, std::move(acc), gen);
    return;
  }
  if ((status.is_expired() || status.is_too_large_resource_version())
      && !rv_unavailable_) {
    // The RV is gone (or not there yet): a consistent list at RV "".
    rv_unavailable_ = true;
    report(err);
    do_list();
    return;
  }
  if (res.status == 429) {
    auto delay = res.retry_after ? std::chrono::milliseconds{*res.retry_after}
                                 : next_backoff();
    fail(err, next_step::relist, delay);
    return;
  }
  fail(err, next_step::relist);
}

void reflector::deliver_list(list_result result) {
  auto self = shared_from_this();
  // The watch starts once the list is acknowledged, so its records are
  // stored before any event that follows it.
  after_ack_ = [self] { self->do_watch(); };
  delivery d{result.items.size(), 0, true};
  for (auto& item : result.items)
    d.bytes += item.size();
  unacked_.push_back(d);
  unacked_events_ += d.events;
  unacked_bytes_ += d.bytes;
  ++unacked_lists_;
  std::lock_guard guard{callback_mtx_};
  if (stopped_)
    return;
  if (callbacks_.on_list)
    callbacks_.on_list(std::move(result));
  else
    ack();
}

// -- watch --------------------------------------------------------------------

void reflector::do_watch() {
  auto gen = ++gen_;
  close_stream();
  auto min = opts_.min_watch_timeout.count();
  std::uniform_int_distribution<int64_t> dist{min, std::max(min, 2 * min - 1)};
  auto timeout = std::chrono::seconds{dist(rng_)};
  watch_timeout_ = timeout;
  stream_options so;
  so.target = opts_.filter.collection_path(type_) + "?"
    + watch_query(last_sync_rv_, opts_.allow_watch_bookmarks, timeout)
    + opts_.filter.query();
  so.idle_timeout = opts_.idle_timeout;
  so.max_age = timeout + opts_.watch_grace;
  KWS_TRACE("reflector {} watches {}", type_.group_resource(), so.target);
  ++stats_.watches;
  auto self = shared_from_this();
  client_->open_stream(std::move(so),
                       [self, gen](caf::expected<stream_result> res) {
                         if (gen != self->gen_) {
                           if (res && res->body)
                             res->body->close();
                           return;
                         }
                         if (!res) {
                           // Connection refused and the like: the server
                           // may be restarting; back off, keep the RV.
                           self->fail(res.error(), next_step::rewatch);
                           return;
                         }
                         self->on_stream(gen, std::move(*res));
                       });
}

void reflector::on_stream(uint64_t gen, stream_result res) {
  const auto& head = res.head;
  if (head.status == 200 && res.body) {
    stream_ = std::move(res.body);
    state_ = std::make_shared<stream_state>();
    watch_started_ = std::chrono::steady_clock::now();
    stream_events_ = 0;
    read_stream(gen);
    return;
  }
  if (res.body)
    res.body->close();
  auto err = status_error(head, "GET", client_->authority(),
                          opts_.filter.collection_path(type_));
  auto status = parse_status(head.body, static_cast<int>(head.status));
  if (head.status == 429) {
    auto delay = head.retry_after ? std::chrono::milliseconds{*head.retry_after}
                                  : next_backoff();
    fail(err, next_step::rewatch, delay);
    return;
  }
  // 410 at watch start, 504 too-large RV, 401/403/404/5xx: back off and
  // relist (the relist at the last RV falls back to RV "" if needed).
  fail(err, next_step::relist);
}

void reflector::read_stream(uint64_t gen) {
  auto self = shared_from_this();
  auto stream = stream_;
  stream->read([self, gen](caf::expected<std::string_view> data) {
    if (gen != self->gen_)
      return;
    if (!data)
      self->on_data(gen, {}, true, data.error());
    else
      self->on_data(gen, *data, data->empty(), caf::error{});
  });
}

void reflector::on_data(uint64_t gen, std::string_view data, bool at_end,
                        caf::error end_error) {
  auto received_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto& st = *state_;
  auto handle = [&](std::string_view doc) {
    if (st.stop_requested)
      return; // the stream is being abandoned: ignore the rest
    // No document here: the watcher parses each object once to build its
    // record, on the actor scheduler's threads.
    auto line = scan_watch_line(doc);
    if (!line) {
      ++stats_.malformed_lines;
      KWS_WARN("reflector {} skips a malformed watch line: {}",
               type_.group_resource(), line.error());
      // The skipped line may have held a change: relist to recover it.
      st.stop_requested = true;
      st.stop_error
        = caf::make_error(ec::parse_error,
                          fmt::format("watch of {}: {}", type_.group_resource(),
                                      render(line.error())));
      st.stop_step = next_step::relist;
      return;
    }
    if (line->is_error) {
      const auto& status = line->status;
      st.stop_requested = true;
      st.stop_error = caf::make_error(
        status.is_expired()    ? ec::gone
          : status.code == 429 ? ec::too_many_requests
                               : ec::unexpected_status,
        fmt::format("watch of {} got an ERROR event: {} {}: {}",
                    type_.group_resource(), status.code, status.reason,
                    status.message));
      // Never take an RV from a Status; 429 re-watches, the rest relists.
      st.stop_step
        = status.code == 429 ? next_step::rewatch : next_step::relist;
      return;
    }
    last_sync_rv_ = line->event.resource_version;
    st.batch.push_back(std::move(line->event));
  };
  st.splitter.feed(data, handle);
  // A clean end may leave a last document without a newline.
  if (at_end && !end_error)
    if (auto rest = st.splitter.finish(); !rest.empty())
      handle(rest);
  auto after = [self = shared_from_this(), gen, at_end,
                end_error = std::move(end_error)]() mutable {
    if (gen != self->gen_)
      return;
    auto& st = *self->state_;
    if (st.stop_requested)
      self->fail(st.stop_error, st.stop_step);
    else if (at_end)
      self->on_stream_end(end_error);
    else
      self->read_stream(gen);
  };
  if (st.batch.empty()) {
    after();
    return;
  }
  stream_events_ += st.batch.size();
  stats_.events += st.batch.size();
  auto batch = std::move(st.batch);
  st.batch.clear();
  deliver_events(std::move(batch), received_ns, std::move(after));
}

void reflector::on_stream_end(const caf::error& err) {
  close_stream();
  auto lived = std::chrono::steady_clock::now() - watch_started_;
  if (lived < very_short_watch && stream_events_ == 0) {
    fail(err ? err
             : caf::make_error(
               ec::transport_error,
               fmt::format(
                 "watch of {} ended after {} ms "
                 "without events",
                 type_.group_resource(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(lived)
                   .count())),
         next_step::relist);
    return;
  }
  // The apiserver ends the watch of a client that reads too slowly (its
  // buffer for it overflowed), and on shutdown: a watch that ends well
  // before the timeout it asked for is one of those. The re-watch below
  // resumes without loss unless the resourceVersion has expired meanwhile
  // (then a 410 relists and the watcher records the gap).
  if (lived + std::chrono::seconds{5} < watch_timeout_) {
    ++stats_.early_ends;
    metrics::get_counter("kws_watch_terminated_total",
                         "Watches the apiserver ended before their timeout "
                         "(as it does for a client that reads too slowly).",
                         "resource=\"" + type_.group_resource() + "\"")
      .inc();
    KWS_WARN("watch of {} ended by the apiserver after {} s, before its "
             "timeout of {} s{}{}; watching again from resourceVersion {}",
             type_.group_resource(),
             std::chrono::duration_cast<std::chrono::seconds>(lived).count(),
             watch_timeout_.count(), err ? ": " : "", err ? render(err) : "",
             last_sync_rv_);
  }
  if (err)
    report(err);
  // A clean end (server timeout) or a broken connection: re-watch at once
  // from the last RV, as client-go does.
  do_watch();
}

void reflector::deliver_events(std::vector<watch_event> events,
                               int64_t received_ns,
                               std::function<void()> then) {
  delivery d{events.size(), 0, false};
  for (auto& ev : events)
    d.bytes += ev.object.size();
  unacked_.push_back(d);
  unacked_events_ += d.events;
  unacked_bytes_ += d.bytes;
  {
    std::lock_guard guard{callback_mtx_};
    if (stopped_)
      return;
    if (callbacks_.on_events)
      callbacks_.on_events(std::move(events), received_ns);
    else
      ack();
  }
  // Reading on while the consumer works is what lets events that arrive
  // during one stored batch go out together in the next.
  if (window_open())
    then();
  else
    after_ack_ = std::move(then);
}

// -- failures -----------------------------------------------------------------

void reflector::report(const caf::error& err) {
  ++stats_.errors;
  KWS_DEBUG("reflector {}: {}", type_.group_resource(), err);
  std::lock_guard guard{callback_mtx_};
  if (stopped_)
    return;
  if (callbacks_.on_error)
    callbacks_.on_error(err);
}

std::chrono::milliseconds reflector::next_backoff() {
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  return backoff_.next(std::chrono::steady_clock::now(), unit(rng_));
}

void reflector::fail(const caf::error& err, next_step step,
                     std::chrono::milliseconds delay) {
  ++gen_;
  close_stream();
  report(err);
  if (delay.count() < 0)
    delay = next_backoff();
  schedule(delay, step);
}

void reflector::schedule(std::chrono::milliseconds delay, next_step step) {
  auto self = shared_from_this();
  auto gen = gen_;
  if (timer_)
    timer_->cancel();
  timer_ = client_->schedule(delay, [self, gen, step] {
    if (gen != self->gen_)
      return;
    self->timer_.reset();
    if (step == next_step::relist)
      self->do_list();
    else
      self->do_watch();
  });
}

void reflector::close_stream() {
  if (stream_) {
    stream_->close();
    stream_.reset();
  }
}

} // namespace kws::kube
