// A body read waits in its body until the io thread serves it: then the io
// thread reads the next piece of the stream file and hands it to the watch
// stream's callback outside the lock, as the callback reads on at once when
// its read-ahead has room.
#include "bench/replay_source.hpp"

#include "bench/resource_use.hpp"
#include "kube/client.hpp"
#include "kube/client_lister_watcher.hpp"
#include "util/errors.hpp"
#include "util/thread_name.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

namespace kws::bench {

namespace {

/// As HTTP chunks of a busy watch arrive.
constexpr size_t piece_bytes = 16384;

using read_callback = std::function<void(caf::expected<std::string_view>)>;

} // namespace

/// The body of one replayed watch: a pending read and whether it was closed
/// (guarded by the io's mutex), and the file only the io thread reads.
class replay_body : public kube::body_stream,
                    public std::enable_shared_from_this<replay_body> {
public:
  replay_body(replay_io& io, const std::filesystem::path& file)
      : io_(io), file_(std::fopen(file.c_str(), "rb")) {
    if (file_ == nullptr) {
      std::perror(file.c_str());
      std::exit(1);
    }
  }

  ~replay_body() override { std::fclose(file_); }

  replay_body(const replay_body&) = delete;
  replay_body& operator=(const replay_body&) = delete;

  void read(read_callback done) override {
    {
      std::lock_guard guard{io_.mtx_};
      pending = std::move(done);
    }
    io_.wake_.notify_one();
  }

  void close() override {
    {
      std::lock_guard guard{io_.mtx_};
      closed = true;
    }
    io_.wake_.notify_one();
  }

  std::FILE* file() const { return file_; }

  read_callback pending;
  bool closed = false;

private:
  replay_io& io_;
  std::FILE* file_;
};

namespace {

/// The transport of one type over its replayed body.
class replay_lister_watcher : public kube::lister_watcher {
public:
  replay_lister_watcher(std::shared_ptr<replay_body> body, std::string name)
      : body_(std::move(body)), name_(std::move(name)) {}

  void list(kube::list_request,
            std::function<void(caf::expected<kube::response>)> done) override {
    kube::response res;
    res.status = 200;
    res.content_type = "application/json";
    res.body = R"({"kind":"List","apiVersion":"v1",)"
               R"("metadata":{"resourceVersion":"1"},"items":[]})";
    done(std::move(res));
  }

  void
  watch(kube::watch_request,
        std::function<void(caf::expected<kube::watch_opening>)> done) override {
    if (watched_) {
      // The replay cannot start over: a second watch means a broken run.
      done(caf::make_error(ec::transport_error,
                           "replayed watch of " + name_ + " opened twice"));
      return;
    }
    watched_ = true;
    kube::watch_opening opening;
    opening.head.status = 200;
    opening.stream = kube::make_watch_stream(body_, name_);
    done(std::move(opening));
  }

  void get(std::string,
           std::function<void(caf::expected<kube::response>)> done) override {
    kube::response res;
    res.status = 404;
    done(std::move(res));
  }

  std::string describe() const override { return "replay of " + name_; }

private:
  std::shared_ptr<replay_body> body_;
  std::string name_;
  bool watched_ = false;
};

} // namespace

replay_io::replay_io(std::atomic<int64_t>& fake_now,
                     std::vector<stream_slice> schedule, double events_per_s)
    : fake_now_(fake_now), schedule_(std::move(schedule)),
      events_per_s_(events_per_s) {}

replay_io::~replay_io() {
  {
    std::lock_guard guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
  std::vector<read_callback> dropped;
  {
    std::lock_guard guard{mtx_};
    for (auto& body : bodies_)
      if (body)
        dropped.push_back(std::exchange(body->pending, nullptr));
  }
  // Destroyed unlocked: each owns a watch stream, which closes its body.
  dropped.clear();
}

std::shared_ptr<kube::lister_watcher>
replay_io::source(size_t stream, const std::filesystem::path& file,
                  std::string name) {
  auto body = std::make_shared<replay_body>(*this, file);
  {
    std::lock_guard guard{mtx_};
    if (bodies_.size() <= stream)
      bodies_.resize(stream + 1);
    bodies_[stream] = body;
  }
  return std::make_shared<replay_lister_watcher>(std::move(body),
                                                 std::move(name));
}

void replay_io::start() {
  started_ = std::chrono::steady_clock::now();
  thread_ = std::thread{[this] {
    name_this_thread("kws.replay-io");
    run();
  }};
}

void replay_io::wait_until_read() {
  std::unique_lock lock{mtx_};
  read_all_.wait(lock, [this] { return cursor_ == schedule_.size(); });
}

double replay_io::io_cpu_seconds() const {
  return io_cpu_s_;
}

replay_body* replay_io::next_ready() {
  // A closed body's read completes (with an error) whatever the turn.
  for (auto& body : bodies_)
    if (body && body->closed && body->pending)
      return body.get();
  if (cursor_ == schedule_.size())
    return nullptr;
  auto* body = bodies_.at(schedule_[cursor_].stream).get();
  return body->pending && !body->closed ? body : nullptr;
}

void replay_io::run() {
  std::string buf;
  while (true) {
    replay_body* body = nullptr;
    read_callback done;
    bool closed = false;
    size_t n = 0;
    int64_t slice_ns = 0;
    bool all_read = false;
    std::optional<std::chrono::steady_clock::time_point> due;
    {
      std::unique_lock lock{mtx_};
      wake_.wait(lock,
                 [&] { return stopping_ || (body = next_ready()) != nullptr; });
      if (stopping_)
        return;
      done = std::exchange(body->pending, nullptr);
      closed = body->closed;
      if (!closed) {
        const auto& slice = schedule_[cursor_];
        if (offset_ == 0 && events_per_s_ > 0) {
          due = started_
            + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                  std::chrono::duration<double>(
                    static_cast<double>(events_begun_) / events_per_s_));
          events_begun_ += slice.events;
        }
        n = std::min(piece_bytes, slice.bytes - offset_);
        slice_ns = slice.now_ns;
        offset_ += n;
        if (offset_ == slice.bytes) {
          offset_ = 0;
          all_read = ++cursor_ == schedule_.size();
        }
      }
    }
    if (closed) {
      done(caf::make_error(ec::transport_error, "replayed watch closed"));
      continue;
    }
    if (due)
      std::this_thread::sleep_until(*due);
    auto t0 = thread_cpu_s();
    buf.resize(n);
    if (std::fread(buf.data(), 1, n, body->file()) != n) {
      std::fprintf(stderr, "short read of a stream file\n");
      std::exit(1);
    }
    fake_now_ = slice_ns;
    done(std::string_view{buf});
    io_cpu_s_ += thread_cpu_s() - t0;
    if (all_read) {
      std::lock_guard guard{mtx_};
      read_all_.notify_all();
    }
  }
}

} // namespace kws::bench
