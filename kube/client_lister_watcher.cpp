// list, watch and get over the kube client. A watch stream reads ahead of
// its reader on the io thread, splitting the bytes into lines and scanning
// each there, so the actor that owns the reflector receives parsed events,
// never a partial line, and all that arrived since its last read at once.
#include "kube/client_lister_watcher.hpp"

#include "kube/api_source.hpp"
#include "kube/client.hpp"
#include "kube/discovery.hpp"
#include "kube/line_splitter.hpp"
#include "kube/wire.hpp"
#include "util/logging.hpp"
#include "util/metrics.hpp"

#include <fmt/format.h>

#include <mutex>
#include <utility>

namespace kws::kube {

watch_stream::~watch_stream() = default;

lister_watcher::~lister_watcher() = default;

api_source::~api_source() = default;

std::string list_query(const list_request& req) {
  std::string result;
  auto add = [&](std::string_view key, std::string_view value) {
    if (!result.empty())
      result += '&';
    result += key;
    result += '=';
    result += url_encode(value);
  };
  if (req.limit > 0)
    add("limit", std::to_string(req.limit));
  // Continue pages must not repeat resourceVersion (400/422).
  if (!req.continue_token.empty())
    add("continue", req.continue_token);
  else if (!req.resource_version.empty())
    add("resourceVersion", req.resource_version);
  return result;
}

std::string watch_query(const watch_request& req) {
  auto result = fmt::format("watch=1&resourceVersion={}",
                            url_encode(req.resource_version));
  if (req.bookmarks)
    result += "&allowWatchBookmarks=true";
  result += fmt::format("&timeoutSeconds={}", req.timeout.count());
  return result;
}

namespace {

/// The stream reads ahead of its reader by at most this many bytes of
/// objects: a reader that asks again soon finds what arrived meanwhile, and
/// a reader that stops asking (its window is full) stops the socket reads.
constexpr uint64_t read_ahead_bytes = uint64_t{4} << 20;

/// A watch body, read line by line on the io thread. Reads run ahead of the
/// reader into `buffered_` (bounded by `read_ahead_bytes`); each `read`
/// takes everything buffered, or waits for the next whole line.
class client_watch_stream
    : public watch_stream,
      public std::enable_shared_from_this<client_watch_stream> {
public:
  client_watch_stream(std::shared_ptr<body_stream> body, std::string name)
      : body_(std::move(body)), name_(std::move(name)) {}

  ~client_watch_stream() override { body_->close(); }

  void read(std::function<void(watch_chunk)> done) override {
    std::unique_lock lock{mtx_};
    if (!ready()) {
      waiting_ = std::move(done);
      bool more = claim_read();
      lock.unlock();
      if (more)
        pump();
      return;
    }
    auto chunk = take_buffered();
    bool more = claim_read();
    lock.unlock();
    if (more)
      pump();
    done(std::move(chunk));
  }

  void close() override { body_->close(); }

private:
  bool ready() const {
    return !buffered_.events.empty() || buffered_.state != stream_state::open;
  }

  watch_chunk take_buffered() {
    buffered_bytes_ = 0;
    return std::exchange(buffered_, {});
  }

  /// With `mtx_` held: true when a body read is to start (none runs, the
  /// stream goes on, the read-ahead has room); it then counts as running.
  bool claim_read() {
    if (reading_ || ended_ || buffered_bytes_ >= read_ahead_bytes)
      return false;
    reading_ = true;
    return true;
  }

  void pump() {
    auto self = shared_from_this();
    body_->read([self](const caf::expected<std::string_view>& data) {
      self->on_data(data);
    });
  }

  /// On the io thread: scans what was read, hands it to a waiting reader
  /// and reads on while there is room.
  void on_data(const caf::expected<std::string_view>& data) {
    watch_chunk fresh;
    fresh.received_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    if (!data) {
      fresh.state = stream_state::broken;
      fresh.error = data.error();
    } else {
      auto handle = [&](std::string_view line) { take(fresh, line); };
      splitter_.feed(*data, handle);
      if (data->empty()) {
        // A clean end may leave a last document without a newline.
        if (auto rest = splitter_.finish(); !rest.empty())
          handle(rest);
        if (fresh.state == stream_state::open)
          fresh.state = stream_state::closed;
      }
    }
    std::function<void(watch_chunk)> done;
    watch_chunk out;
    bool more = false;
    {
      std::lock_guard guard{mtx_};
      reading_ = false;
      if (buffered_.events.empty())
        buffered_.received_ns = fresh.received_ns;
      for (auto& ev : fresh.events) {
        buffered_bytes_ += ev.object.size();
        buffered_.events.push_back(std::move(ev));
      }
      if (fresh.state != stream_state::open) {
        ended_ = true;
        buffered_.state = fresh.state;
        buffered_.error = std::move(fresh.error);
      }
      if (waiting_ && ready()) {
        done = std::exchange(waiting_, nullptr);
        out = take_buffered();
      }
      more = claim_read();
    }
    if (more)
      pump();
    if (done)
      done(std::move(out));
  }

  /// Scans one line into `chunk`; an ERROR event or a malformed line stops
  /// the stream and nothing after it is taken.
  void take(watch_chunk& chunk, std::string_view doc) {
    if (chunk.state != stream_state::open)
      return;
    auto line = scan_watch_line(doc);
    if (!line) {
      static auto& malformed = metrics::get_counter(
        "kws_watch_malformed_lines_total",
        "Watch lines that could not be parsed (each forces a relist).");
      malformed.inc();
      KWS_WARN("watch of {} skips a malformed line: {}", name_, line.error());
      // The skipped line may have held a change: the machine relists.
      chunk.state = stream_state::stopped;
      chunk.error = caf::make_error(
        ec::parse_error,
        fmt::format("watch of {}: {}", name_, render(line.error())));
      return;
    }
    if (line->is_error) {
      const auto& status = line->status;
      chunk.state = stream_state::stopped;
      chunk.error = caf::make_error(
        status.is_expired()    ? ec::gone
          : status.code == 429 ? ec::too_many_requests
                               : ec::unexpected_status,
        fmt::format("watch of {} got an ERROR event: {} {}: {}", name_,
                    status.code, status.reason, status.message));
      return;
    }
    chunk.events.push_back(std::move(line->event));
  }

  std::shared_ptr<body_stream> body_;
  std::string name_;
  /// Touched by body reads only, one at a time.
  line_splitter splitter_;
  /// Shared by the reader's thread and the io thread.
  std::mutex mtx_;
  watch_chunk buffered_;
  uint64_t buffered_bytes_ = 0;
  std::function<void(watch_chunk)> waiting_;
  bool reading_ = false;
  bool ended_ = false;
};

class client_lister_watcher : public lister_watcher {
public:
  client_lister_watcher(std::shared_ptr<client> c, resource_type type,
                        selection filter)
      : client_(std::move(c)), type_(std::move(type)),
        filter_(std::move(filter)), path_(filter_.collection_path(type_)) {}

  void list(list_request req,
            std::function<void(caf::expected<response>)> done) override {
    request_options opts;
    opts.target = path_ + "?" + list_query(req) + filter_.query();
    KWS_TRACE("reflector {} lists {}", type_.group_resource(), opts.target);
    client_->send(std::move(opts), std::move(done));
  }

  void watch(watch_request req,
             std::function<void(caf::expected<watch_opening>)> done) override {
    stream_options opts;
    opts.target = path_ + "?" + watch_query(req) + filter_.query();
    opts.idle_timeout = req.idle_timeout;
    opts.max_age = req.timeout + req.grace;
    KWS_TRACE("reflector {} watches {}", type_.group_resource(), opts.target);
    client_->open_stream(
      std::move(opts),
      [name = type_.group_resource(),
       done = std::move(done)](caf::expected<stream_result> res) {
        if (!res) {
          done(res.error());
          return;
        }
        watch_opening result;
        result.head = std::move(res->head);
        if (result.head.status == 200 && !res->body) {
          done(caf::make_error(ec::transport_error,
                               "watch of " + name + " opened without a body"));
          return;
        }
        if (result.head.status == 200)
          result.stream = make_watch_stream(std::move(res->body), name);
        else if (res->body)
          res->body->close();
        done(std::move(result));
      });
  }

  void get(std::string path,
           std::function<void(caf::expected<response>)> done) override {
    request_options opts;
    opts.target = std::move(path);
    client_->send(std::move(opts), std::move(done));
  }

  std::string describe() const override { return client_->authority() + path_; }

private:
  std::shared_ptr<client> client_;
  resource_type type_;
  selection filter_;
  std::string path_;
};

class client_api_source : public api_source {
public:
  explicit client_api_source(std::shared_ptr<client> c)
      : client_(std::move(c)) {}

  void discover(std::function<void(caf::expected<std::vector<api_resource>>)>
                  done) override {
    discover_api_resources(client_, done);
  }

  std::shared_ptr<lister_watcher>
  lister_watcher_for(const resource_type& type,
                     const selection& filter) override {
    return std::make_shared<client_lister_watcher>(client_, type, filter);
  }

private:
  std::shared_ptr<client> client_;
};

} // namespace

std::shared_ptr<api_source> make_client_api_source(std::shared_ptr<client> c) {
  return std::make_shared<client_api_source>(std::move(c));
}

std::shared_ptr<watch_stream>
make_watch_stream(std::shared_ptr<body_stream> body, std::string name) {
  return std::make_shared<client_watch_stream>(std::move(body),
                                               std::move(name));
}

std::shared_ptr<lister_watcher>
make_client_lister_watcher(std::shared_ptr<client> c, resource_type type,
                           selection filter) {
  return std::make_shared<client_lister_watcher>(std::move(c), std::move(type),
                                                 std::move(filter));
}

} // namespace kws::kube
