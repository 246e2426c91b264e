// Stopping the kube client releases what it holds: handlers that own a
// reflector's actor, queued work that owns the client, and a reflector
// stopped just before its client (each found by LeakSanitizer).
#include "kube/client.hpp"
#include "tests/e2e/kube_client_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

using namespace kws::kube;
using namespace kws::kube::e2e;
using namespace std::chrono_literals;

// Found by LeakSanitizer: a recorder owns its reflector and the reflector's
// handlers own the recorder, so the pair (and the client) outlived the test.
TEST_F(kube_e2e, stop_releases_callbacks_that_own_the_reflector) {
  std::weak_ptr<recorder> weak;
  {
    auto rec = watch(admin, configmaps);
    weak = rec;
    ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
    rec->stop();
    recorders.clear();
  }
  EXPECT_TRUE(eventually([&] { return weak.expired(); }))
    << "the reflector still holds its callbacks after stop";
}

// Work still queued when stop gives up waiting for the io thread owns its
// captures; here they own the client itself, a cycle only stop can break.
TEST_F(kube_e2e, stop_after_its_timeout_destroys_queued_work_unrun) {
  client_options opts;
  opts.stop_timeout = 100ms;
  auto made = client::make(admin_cert_config(), opts);
  ASSERT_TRUE(made) << kws::render(made.error());
  auto c = *made;
  std::promise<void> entered;
  c->post([&entered] {
    entered.set_value();
    std::this_thread::sleep_for(1s); // outlasts stop_timeout
  });
  entered.get_future().wait();
  auto owner = std::make_shared<std::shared_ptr<client>>(c);
  std::weak_ptr<std::shared_ptr<client>> weak = owner;
  std::atomic<bool> ran = false;
  c->post([owner, &ran] { ran = true; });
  owner.reset();
  c->stop();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(weak.expired()) << "queued work outlived the client's stop";
}

// Found by LeakSanitizer in the server, which stops its client right after
// the watchers: the reflector's clean-up was skipped once the client was
// stopping, and a reflector waiting for an ack kept itself alive.
TEST_F(kube_e2e, a_reflector_stopped_just_before_its_client_is_released) {
  auto c = make_client(admin_cert_config());
  ASSERT_TRUE(c);
  auto rec = std::make_shared<recorder>();
  rec->auto_ack = false; // the reflector waits for an ack after the list
  rec->start(actors, c, configmaps);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  auto weak = rec->source;
  rec->stop();
  c->stop();
  rec.reset();
  EXPECT_TRUE(eventually([&] { return weak.expired(); }))
    << "the reflector outlived its stop and its client's";
}
