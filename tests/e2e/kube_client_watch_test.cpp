// Watches of the kube client through reflectors against the real control
// plane: event order, flow control by acknowledgements, large objects, a
// forced 410 and an apiserver that goes away mid-watch (a TCP proxy here).
#include "kube/wire.hpp"
#include "tests/e2e/kube_client_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <future>
#include <list>
#include <thread>

using namespace kws::kube;
using namespace kws::kube::e2e;
using namespace std::chrono_literals;
using kws::ec;
using kws::watch_event_type;

namespace {

// -- a TCP proxy that can go down ---------------------------------------------

/// Forwards 127.0.0.1:<port> to the apiserver. `down()` closes the listener
/// and every connection (the apiserver vanished); `up()` listens again on
/// the same port (it came back).
class tcp_proxy {
public:
  tcp_proxy(std::string host, std::string port)
      : upstream_host_(std::move(host)), upstream_port_(std::move(port)) {
    work_.emplace(ioc_.get_executor());
    thread_ = std::thread{[this] { ioc_.run(); }};
    up();
  }

  ~tcp_proxy() {
    try {
      down();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the proxy did not stop: " << e.what();
    }
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }

  void up() {
    run_sync([this] {
      acceptor_.emplace(ioc_);
      boost::asio::ip::tcp::endpoint ep{
        boost::asio::ip::make_address("127.0.0.1"), port_};
      acceptor_->open(ep.protocol());
      acceptor_->set_option(boost::asio::socket_base::reuse_address{true});
      acceptor_->bind(ep);
      acceptor_->listen();
      port_ = acceptor_->local_endpoint().port();
      accept();
    });
  }

  void down() {
    run_sync([this] {
      if (acceptor_) {
        boost::system::error_code ec;
        acceptor_->close(ec);
        acceptor_.reset();
      }
      for (auto& weak : sockets_)
        if (auto s = weak.lock()) {
          boost::system::error_code ec;
          s->close(ec);
        }
      sockets_.clear();
    });
  }

private:
  using socket_ptr = std::shared_ptr<boost::asio::ip::tcp::socket>;

  template <class F>
  void run_sync(F f) {
    std::promise<void> done;
    boost::asio::post(ioc_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void accept() {
    auto down_side = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
    acceptor_->async_accept(
      *down_side, [this, down_side](boost::system::error_code ec) {
        if (ec)
          return;
        auto up_side = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
        sockets_.push_back(down_side);
        sockets_.push_back(up_side);
        boost::asio::ip::tcp::resolver resolver{ioc_};
        boost::system::error_code rec;
        auto results = resolver.resolve(upstream_host_, upstream_port_, rec);
        if (!rec)
          boost::asio::connect(*up_side, results, rec);
        if (rec) {
          down_side->close(rec);
        } else {
          pump(down_side, up_side);
          pump(up_side, down_side);
        }
        if (acceptor_)
          accept();
      });
  }

  void pump(socket_ptr from, socket_ptr to) {
    auto buf = std::make_shared<std::array<char, 65536>>();
    from->async_read_some(
      boost::asio::buffer(*buf),
      [this, from, to, buf](boost::system::error_code ec, size_t n) {
        if (ec) {
          boost::system::error_code ignore;
          to->shutdown(boost::asio::socket_base::shutdown_send, ignore);
          return;
        }
        boost::asio::async_write(
          *to, boost::asio::buffer(*buf, n),
          [this, from, to, buf](boost::system::error_code ec, size_t) {
            if (!ec)
              pump(from, to);
          });
      });
  }

  std::string upstream_host_;
  std::string upstream_port_;
  boost::asio::io_context ioc_;
  std::optional<
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
    work_;
  std::thread thread_;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::list<std::weak_ptr<boost::asio::ip::tcp::socket>> sockets_;
  uint16_t port_ = 0;
};

} // namespace

// -- watches ------------------------------------------------------------------

TEST_F(kube_e2e, watch_sees_added_modified_deleted_in_order) {
  auto rec = watch(admin, configmaps);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  auto created = call(*admin, "POST", cm_path(), configmap("w1", "one"));
  ASSERT_TRUE(created) << kws::render(created.error());
  auto patched
    = call(*admin, "PATCH", cm_path("w1"), R"({"data":{"v":"two"}})");
  ASSERT_TRUE(patched) << kws::render(patched.error());
  auto put_body = *patched;
  auto deleted = call(*admin, "DELETE", cm_path("w1"));
  ASSERT_TRUE(deleted) << kws::render(deleted.error());
  auto key = ns + "/w1";
  ASSERT_TRUE(rec->wait([&](recorder& r) {
    return has_type(r.of(key), watch_event_type::deleted);
  }))
    << "no DELETED event";
  std::lock_guard guard{rec->mtx};
  auto evs = rec->of(key);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].type, watch_event_type::added);
  EXPECT_EQ(evs[1].type, watch_event_type::modified);
  EXPECT_EQ(evs[2].type, watch_event_type::deleted);
  EXPECT_EQ(evs[0].resource_version,
            json_string(*created, "metadata", "resourceVersion"));
  EXPECT_EQ(evs[1].resource_version,
            json_string(*patched, "metadata", "resourceVersion"));
  // Watch objects are complete and the DELETED one has the last state.
  EXPECT_EQ(json_string(evs[2].object, "kind"), "ConfigMap");
  EXPECT_NE(evs[2].object.find(R"("v":"two")"), std::string::npos);
  EXPECT_EQ(rec->lists.size(), 1u); // no relist was needed
}

TEST_F(kube_e2e, flow_control_holds_events_until_ack) {
  auto rec = std::make_shared<recorder>();
  rec->ns = ns;
  rec->auto_ack = false;
  rec->start(actors, admin, configmaps);
  recorders.push_back(rec);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  // The list is not acked: the watch has not even started.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(call(*admin, "POST", cm_path(),
                     configmap(fmt::format("held-{}", i), "x")));
  {
    std::lock_guard guard{rec->mtx};
    EXPECT_TRUE(rec->events.empty());
  }
  rec->ack();
  // The watch starts at the list RV, so the three creates arrive; ack each
  // batch by hand.
  auto seen_all = [&] {
    std::unique_lock guard{rec->mtx};
    return rec->cv.wait_for(guard, wait_limit, [&] {
      size_t added = 0;
      for (int i = 0; i < 3; ++i)
        added += has_type(rec->of(fmt::format("{}/held-{}", ns, i)),
                          watch_event_type::added);
      return added == 3;
    });
  };
  std::atomic<bool> done{false};
  std::thread acker{[&] {
    for (int i = 0; i < 600 && !done; ++i) {
      rec->ack();
      std::this_thread::sleep_for(100ms);
    }
  }};
  EXPECT_TRUE(seen_all());
  done = true;
  acker.join();
}

// A consumer busy storing one delivery finds the next changes waiting: the
// stream is read on while the unacknowledged events stay under the window.
TEST_F(kube_e2e, the_stream_is_read_on_while_deliveries_await_their_ack) {
  auto rec = std::make_shared<recorder>();
  rec->ns = ns;
  rec->auto_ack = false;
  reflector_settings opts;
  opts.max_unacked_events = 1000;
  rec->start(actors, admin, configmaps, "", opts);
  recorders.push_back(rec);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  rec->ack(); // the list; no event is acknowledged below
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(call(*admin, "POST", cm_path(),
                     configmap(fmt::format("read-on-{}", i), "x")));
  EXPECT_TRUE(rec->wait([&](recorder& r) {
    size_t added = 0;
    for (int i = 0; i < 5; ++i)
      added += has_type(r.of(fmt::format("{}/read-on-{}", ns, i)),
                        watch_event_type::added);
    return added == 5;
  }))
    << "the reflector stopped reading after its first delivery";
}

// A full window stops the reads until acknowledgements come.
TEST_F(kube_e2e, a_full_window_stops_the_reads_until_acknowledged) {
  auto rec = std::make_shared<recorder>();
  rec->ns = ns;
  rec->auto_ack = false;
  reflector_settings opts;
  opts.max_unacked_events = 1;
  rec->start(actors, admin, configmaps, "", opts);
  recorders.push_back(rec);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  rec->ack();
  ASSERT_TRUE(call(*admin, "POST", cm_path(), configmap("window-0", "x")));
  ASSERT_TRUE(rec->wait([](recorder& r) { return r.deliveries > 0; }));
  size_t held;
  {
    std::lock_guard guard{rec->mtx};
    held = rec->deliveries;
  }
  EXPECT_EQ(held, 1u) << "a delivery past a full window";
  for (int i = 1; i < 3; ++i)
    ASSERT_TRUE(call(*admin, "POST", cm_path(),
                     configmap(fmt::format("window-{}", i), "x")));
  // Nothing is read while the window is full (the writes above are done).
  EXPECT_FALSE(rec->wait([&](recorder& r) { return r.deliveries > held; },
                         std::chrono::seconds{2}))
    << "the stream was read with a full window";
  std::atomic<bool> done{false};
  std::thread acker{[&] {
    for (int i = 0; i < 600 && !done; ++i) {
      rec->ack();
      std::this_thread::sleep_for(100ms);
    }
  }};
  EXPECT_TRUE(rec->wait([&](recorder& r) {
    size_t added = 0;
    for (int i = 0; i < 3; ++i)
      added += has_type(r.of(fmt::format("{}/window-{}", ns, i)),
                        watch_event_type::added);
    return added == 3;
  }));
  done = true;
  acker.join();
}

TEST_F(kube_e2e, large_objects_in_lists_and_watches) {
  auto rec = watch(admin, configmaps);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  std::string big;
  for (int i = 0; i < 100000; ++i)
    big += "ä€𝄞";
  ASSERT_GE(big.size(), 900000u);
  ASSERT_TRUE(call(*admin, "POST", cm_path(), configmap("big", big)));
  auto key = ns + "/big";
  ASSERT_TRUE(rec->wait([&](recorder& r) { return !r.of(key).empty(); }));
  {
    std::lock_guard guard{rec->mtx};
    EXPECT_NE(rec->of(key)[0].object.find(big), std::string::npos);
  }
  auto listed = call(*admin, "GET", cm_path());
  ASSERT_TRUE(listed);
  auto page = parse_list_page(*listed, "ConfigMap");
  ASSERT_TRUE(page);
  EXPECT_TRUE(std::any_of(
    page->items.begin(), page->items.end(),
    [&](const std::string& x) { return x.find(big) != std::string::npos; }));
}

TEST_F(kube_e2e, forced_410_relists_without_losing_a_change) {
  auto widget = create_crd();
  auto path = fmt::format("/apis/{}/v1/namespaces/{}/{}", widget.group, ns,
                          widget.plural);
  auto widget_body = [&](const std::string& name, int n) {
    return fmt::format(
      R"({{"apiVersion":"{}/v1","kind":"{}","metadata":{{"name":"{}"}},"spec":{{"n":{}}}}})",
      widget.group, widget.kind, name, n);
  };
  // The CRD resource is created and served (retry briefly: discovery and
  // the new REST endpoint can lag Established).
  caf::expected<std::string> created{caf::error{}};
  ASSERT_TRUE(eventually([&] {
    created = call(*admin, "POST", path, widget_body("w1", 1));
    return static_cast<bool>(created);
  }))
    << kws::render(created.error());
  auto modified = call(*admin, "PATCH", path + "/w1", R"({"spec":{"n":2}})");
  ASSERT_TRUE(modified) << kws::render(modified.error());
  auto rv_after_change = json_string(*modified, "metadata", "resourceVersion");
  // Resume from RV 1, long before this resource's watch cache began: the
  // apiserver answers 410 Expired, and the relist must carry the change.
  auto rec = watch(admin, widget, "1");
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }))
    << "no relist after the 410";
  {
    std::lock_guard guard{rec->mtx};
    EXPECT_TRUE(has_error(rec->errors, ec::gone))
      << "expected a 410, got " << rec->errors.size() << " errors";
    const auto& list = rec->lists.front();
    ASSERT_EQ(list.items.size(), 1u);
    auto meta = parse_object_meta(list.items[0]);
    ASSERT_TRUE(meta);
    EXPECT_EQ(meta->name, "w1");
    EXPECT_EQ(meta->resource_version, rv_after_change);
    EXPECT_EQ(json_string(list.items[0], "kind"), widget.kind);
  }
  // The watch after the relist continues from the list RV.
  ASSERT_TRUE(call(*admin, "PATCH", path + "/w1", R"({"spec":{"n":3}})"));
  ASSERT_TRUE(rec->wait([&](recorder& r) {
    return has_type(r.of(ns + "/w1"), watch_event_type::modified);
  }));
}

TEST_F(kube_e2e, apiserver_going_away_mid_watch_resumes_without_loss) {
  auto [host, port] = api_host_port();
  tcp_proxy proxy{host, port};
  auto via_proxy = admin_client_via(proxy.port());
  ASSERT_TRUE(via_proxy);
  reflector_settings opts;
  opts.initial_backoff = 200ms;
  auto rec = watch(via_proxy, configmaps, "", opts);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  ASSERT_TRUE(call(*admin, "POST", cm_path(), configmap("a", "1")));
  ASSERT_TRUE(rec->wait([&](recorder& r) { return !r.of(ns + "/a").empty(); }));
  // The apiserver vanishes: connections drop, new ones are refused.
  proxy.down();
  ASSERT_TRUE(call(*admin, "POST", cm_path(), configmap("b", "1")));
  ASSERT_TRUE(call(*admin, "PATCH", cm_path("a"), R"({"data":{"v":"2"}})"));
  ASSERT_TRUE(rec->wait(
    [](recorder& r) { return has_error(r.errors, ec::transport_error); }))
    << "the reflector never noticed the outage";
  proxy.up();
  ASSERT_TRUE(rec->wait([&](recorder& r) {
    return !r.of(ns + "/b").empty()
      && has_type(r.of(ns + "/a"), watch_event_type::modified);
  }))
    << "changes made during the outage were lost";
  std::lock_guard guard{rec->mtx};
  // Resumed from the last RV by watch, not by a relist.
  EXPECT_EQ(rec->lists.size(), 1u);
  EXPECT_EQ(rec->of(ns + "/b")[0].type, watch_event_type::added);
}

TEST_F(kube_e2e, requests_succeed_at_once_after_the_server_closed_pooled_ones) {
  auto [host, port] = api_host_port();
  tcp_proxy proxy{host, port};
  auto via_proxy = admin_client_via(proxy.port());
  ASSERT_TRUE(via_proxy);
  // Two requests at once leave two connections in the pool.
  const auto path = "/api/v1/namespaces/" + ns;
  std::vector<std::future<caf::expected<std::string>>> answers;
  for (int i = 0; i < 2; ++i) {
    auto done = std::make_shared<std::promise<caf::expected<std::string>>>();
    answers.push_back(done->get_future());
    via_proxy->get(path, [done](caf::expected<std::string> x) {
      done->set_value(std::move(x));
    });
  }
  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(wait_limit), std::future_status::ready);
    auto x = answer.get();
    ASSERT_TRUE(x) << kws::render(x.error());
  }
  // The server closes every connection (as one closes idle ones) and
  // keeps listening.
  proxy.down();
  proxy.up();
  for (int i = 0; i < 2; ++i) {
    auto x = call(*via_proxy, "GET", path);
    EXPECT_TRUE(x) << "request " << i << ": " << kws::render(x.error());
  }
}
