// DISCOVERY over a scripted apiserver, in virtual time: the watched set
// follows discovery and the CRDs its own reflector sees come and go; each
// WATCHER it spawns runs over a fake transport and a real STORAGE.
#include "actors/discovery.hpp"

#include "actors/correlator.hpp"
#include "actors/storage.hpp"
#include "storage/rocks_store.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/fake_lister_watcher.hpp"
#include "tests/support/test_store.hpp"

#include <filesystem>

namespace kws {
namespace {

using namespace std::chrono_literals;

const resource_type configmaps{"", "v1", "ConfigMap", "configmaps", true};
const std::string crds_gr = "customresourcedefinitions.apiextensions.k8s.io";

api_resource served(const resource_type& rt) {
  api_resource r;
  r.type = rt;
  r.verbs = {"get", "list", "watch"};
  r.preferred = true;
  return r;
}

std::string widget_crd() {
  return R"({"apiVersion":"apiextensions.k8s.io/v1",)"
         R"("kind":"CustomResourceDefinition",)"
         R"("metadata":{"name":"widgets.example.com","resourceVersion":"7"},)"
         R"("spec":{"group":"example.com","scope":"Namespaced",)"
         R"("names":{"plural":"widgets","kind":"Widget"},)"
         R"("versions":[{"name":"v1","served":true,"storage":true}]},)"
         R"("status":{"conditions":[{"type":"Established","status":"True"}]}})";
}

watch_event crd_event(watch_event_type type, const std::string& rv) {
  return {type, widget_crd(), rv};
}

struct discovery_test : test::deterministic_fixture {
  std::filesystem::path dir;
  std::shared_ptr<storage::rocks_store> store;
  storage_actor writer;
  correlator_actor correlator;
  discovery_actor aut;
  std::shared_ptr<test::fake_api_source> api
    = std::make_shared<test::fake_api_source>();

  void SetUp() override {
    store = test::open_test_store("kws-discovery-actor", dir);
    ASSERT_TRUE(store);
    storage_config scfg;
    scfg.now = [] { return int64_t{1'700'000'000'000'000'000}; };
    writer = sys.spawn(storage_writer, scfg, store);
    correlator = sys.spawn(kws::correlator, writer);
    run();
  }

  void TearDown() override {
    for (const auto& hdl : {caf::actor_cast<caf::actor>(aut),
                            caf::actor_cast<caf::actor>(correlator),
                            caf::actor_cast<caf::actor>(writer)})
      if (hdl)
        self->send_exit(hdl, caf::exit_reason::user_shutdown);
    run();
    aut = nullptr;
    correlator = nullptr;
    writer = nullptr;
    store.reset();
    std::filesystem::remove_all(dir);
  }

  void start(bool discover_crds = true) {
    discovery_config cfg;
    cfg.watch.resources = {configmaps};
    cfg.watch.discover_crds = discover_crds;
    aut = sys.spawn(discovery, cfg, api, writer, correlator);
    run();
  }

  readiness status() {
    auto rp = self->request(aut, caf::infinite, atom::status_v);
    run();
    auto r = try_collect<readiness>(rp);
    EXPECT_TRUE(r && *r);
    return r && *r ? **r : readiness{};
  }

  std::vector<std::string> watched() {
    std::vector<std::string> result;
    for (auto& w : status().watchers)
      result.push_back(w.type.group_resource());
    return result;
  }

  /// Lists nothing for `gr`'s newest watcher or reflector and opens its watch.
  void list_empty(const std::string& gr, const std::string& rv = "1") {
    auto source = api->source(gr);
    ASSERT_NE(source, nullptr) << "no transport for " << gr;
    ASSERT_TRUE(source->answer_list(test::list_page_answer({}, rv)))
      << "no list of " << gr;
    run();
    ASSERT_TRUE(source->open_watch()) << "no watch of " << gr;
    run();
  }
};

TEST_F(discovery_test, ready_once_every_watcher_has_listed) {
  start(false);
  EXPECT_EQ(api->discoveries, 1u);
  EXPECT_FALSE(status().ready) << "ready before discovery ran";
  ASSERT_TRUE(api->answer_discovery(std::vector{served(configmaps)}));
  run();
  EXPECT_EQ(watched(), std::vector<std::string>{"configmaps"});
  EXPECT_FALSE(status().ready) << "ready before the watcher listed";
  list_empty("configmaps");
  EXPECT_TRUE(status().ready);
}

TEST_F(discovery_test, a_failed_discovery_is_retried_after_a_backoff) {
  start(false);
  ASSERT_TRUE(api->answer_discovery(
    caf::make_error(ec::transport_error, "connection refused")));
  run();
  advance(700ms);
  EXPECT_EQ(api->discoveries, 1u) << "retried before the backoff";
  advance(100ms);
  EXPECT_EQ(api->discoveries, 2u);
  ASSERT_TRUE(api->answer_discovery(std::vector{served(configmaps)}));
  run();
  EXPECT_EQ(watched(), std::vector<std::string>{"configmaps"});
}

TEST_F(discovery_test, crds_that_appear_are_watched_and_those_deleted_retire) {
  start();
  ASSERT_TRUE(api->answer_discovery(std::vector{served(configmaps)}));
  run();
  list_empty(crds_gr);
  list_empty("configmaps");
  EXPECT_EQ(watched(), std::vector<std::string>{"configmaps"});
  api->source(crds_gr)->stream->push(
    test::events_read({crd_event(watch_event_type::added, "7")}));
  run();
  EXPECT_EQ(watched(),
            (std::vector<std::string>{"configmaps", "widgets.example.com"}));
  EXPECT_FALSE(status().ready) << "ready before the new type listed";
  list_empty("widgets.example.com");
  EXPECT_TRUE(status().ready);
  auto widgets = api->source("widgets.example.com");
  api->source(crds_gr)->stream->push(
    test::events_read({crd_event(watch_event_type::deleted, "8")}));
  run();
  EXPECT_EQ(watched(), std::vector<std::string>{"configmaps"});
  EXPECT_TRUE(widgets->stream->closed) << "the stopped watcher kept watching";
  // The history of the deleted type stays reachable by its name.
  auto rp = self->request(aut, caf::infinite, atom::resolve_v,
                          std::string{"widgets"});
  run();
  auto resolved = try_collect<resource_type>(rp);
  ASSERT_TRUE(resolved && *resolved);
  EXPECT_EQ((*resolved)->group_resource(), "widgets.example.com");
}

TEST_F(discovery_test,
       the_crd_reflector_relists_after_a_410_and_keeps_the_set) {
  start();
  ASSERT_TRUE(api->answer_discovery(std::vector{served(configmaps)}));
  run();
  auto crds = api->source(crds_gr);
  ASSERT_TRUE(crds->answer_list(test::list_page_answer({widget_crd()}, "7")));
  run();
  ASSERT_TRUE(crds->open_watch());
  run();
  EXPECT_EQ(watched(),
            (std::vector<std::string>{"configmaps", "widgets.example.com"}));
  crds->stream->push(test::stream_end(kube::stream_state::stopped,
                                      caf::make_error(ec::gone, "ERROR 410")));
  run();
  advance(2s);
  ASSERT_EQ(crds->lists.size(), 2u) << "no relist after the 410";
  EXPECT_EQ(crds->lists.back().resource_version, "7");
  ASSERT_TRUE(crds->answer_list(test::list_page_answer({widget_crd()}, "9")));
  run();
  EXPECT_EQ(watched(),
            (std::vector<std::string>{"configmaps", "widgets.example.com"}));
  EXPECT_EQ(api->sources["widgets.example.com"].size(), 1u)
    << "a relist restarted a watcher whose type did not change";
}

} // namespace
} // namespace kws
