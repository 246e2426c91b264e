// The CORRELATOR links Event records to their objects and lets STORAGE
// acknowledge the batch.
#include "actors/correlator.hpp"

#include "storage/record_builder.hpp"
#include "tests/actors/mocks.hpp"
#include "tests/support/deterministic_fixture.hpp"

namespace kws {
namespace {

const resource_type events{"", "v1", "Event", "events", true};

resource_event event_about(const std::string& api_version,
                           const std::string& kind, const std::string& name) {
  auto json = R"({"apiVersion":"v1","kind":"Event","metadata":{"name":")" + name
    + R"(.1","namespace":"default","uid":"e-)" + name
    + R"(","resourceVersion":"5"},"involvedObject":{"apiVersion":")"
    + api_version + R"(","kind":")" + kind + R"(","name":")" + name
    + R"(","namespace":"default","uid":"o-)" + name
    + R"("},"reason":"ScalingReplicaSet","message":"Scaled up",)"
      R"("type":"Normal","count":1})";
  auto ev = storage::build_record(events, verb::create, json, 1);
  EXPECT_TRUE(ev) << render(ev.error());
  return *ev;
}

struct correlator_test : test::deterministic_fixture {
  std::shared_ptr<test::storage_log> log
    = std::make_shared<test::storage_log>();
  storage_actor storage = sys.spawn(test::mock_storage, log);
  correlator_actor aut = sys.spawn(correlator, storage);

  void SetUp() override {
    self->send(aut,
               std::vector<resource_type>{
                 {"apps", "v1", "Deployment", "deployments", true},
                 {"", "v1", "Pod", "pods", true},
                 {"example.com", "v1", "Widget", "widgets", true}});
    run();
  }
};

TEST_F(correlator_test, links_events_by_involved_object_and_storage_acks) {
  auto rp
    = self->request(aut, caf::infinite,
                    ingest_batch{"events",
                                 {event_about("apps/v1", "Deployment", "web"),
                                  event_about("v1", "Pod", "web-1"),
                                  event_about("example.com/v1", "Widget", "w")},
                                 "5"});
  run();
  auto r = try_collect<atom::ok>(rp);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  ASSERT_EQ(log->batches.size(), 1u);
  auto& evs = log->batches[0].events;
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].link_ns, "default");
  EXPECT_EQ(evs[0].link_resource, "deployments");
  EXPECT_EQ(evs[0].link_name, "web");
  EXPECT_EQ(evs[1].link_resource, "pods");
  EXPECT_EQ(evs[1].link_name, "web-1");
  EXPECT_EQ(evs[2].link_resource, "widgets");
  EXPECT_EQ(log->batches[0].resource_version, "5");
}

TEST_F(correlator_test, unknown_kinds_stay_unlinked_but_are_stored) {
  auto rp = self->request(
    aut, caf::infinite,
    ingest_batch{"events", {event_about("x.io/v1", "Gadget", "g")}, ""});
  run();
  ASSERT_TRUE(try_collect<atom::ok>(rp));
  ASSERT_EQ(log->batches.size(), 1u);
  EXPECT_EQ(log->batches[0].events.at(0).link_resource, "");
}

TEST_F(correlator_test, storage_errors_reach_the_watcher) {
  log->fail_with = caf::make_error(ec::storage_failure, "disk full");
  auto rp = self->request(
    aut, caf::infinite,
    ingest_batch{"events", {event_about("v1", "Pod", "p")}, ""});
  run();
  auto r = try_collect<atom::ok>(rp);
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_EQ(r->error(), ec::storage_failure);
}

TEST(kind_index_test, prefers_the_api_group_and_falls_back_to_the_kind) {
  kind_index idx;
  idx.reset({{"", "v1", "Event", "events", true},
             {"events.k8s.io", "v1", "Event", "events", true},
             {"apps", "v1", "Deployment", "deployments", true}});
  EXPECT_EQ(idx.plural("apps/v1", "Deployment"), "deployments");
  EXPECT_EQ(idx.plural("", "Deployment"), "deployments");
  EXPECT_EQ(idx.plural("extensions/v1beta1", "Deployment"), "deployments");
  EXPECT_EQ(idx.plural("v1", "Nothing"), "");
}

} // namespace
} // namespace kws
