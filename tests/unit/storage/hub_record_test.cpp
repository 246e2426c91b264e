// A message of the export topic read back into the record a hub stores:
// the id kept, `cluster` leading the record, the keys the store indexes by
// taken from the record and its `link` header; and what is not such a
// message, named.
#include "storage/hub_record.hpp"

#include "storage/change_class.hpp"
#include "storage/export_message.hpp"
#include "storage/key_codec.hpp"
#include "storage/record_builder.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>

namespace kws::storage {
namespace {

constexpr int64_t t0 = 1'700'000'000'123'456'789;

/// The message a server exports for `ev` stored as record `seq`.
kafka_message message_of(resource_event ev, uint64_t seq,
                         const std::string& cluster = "prod-eu") {
  stored_record r;
  r.seq = seq;
  r.uid = ev.uid;
  r.json = R"({"id":")" + format_id(seq) + R"(",)" + ev.record.substr(1);
  r.link_ns = ev.link_ns;
  r.link_resource = ev.link_resource;
  r.link_name = ev.link_name;
  auto m = export_message(r, cluster);
  EXPECT_TRUE(m) << render(m.error());
  return *m;
}

TEST(hub_record, keeps_the_id_and_the_record_and_reads_its_keys) {
  const resource_type deps{"apps", "v1", "Deployment", "deployments", true};
  auto ev = build_record(
    deps, verb::update,
    R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","uid":"u1","resourceVersion":"42"},"spec":{"replicas":2}})",
    t0);
  ASSERT_TRUE(ev);
  auto m = message_of(*ev, 0x2a);
  EXPECT_EQ(m.key, "prod-eu/u1");
  EXPECT_TRUE(m.link.empty());
  auto rec = parse_hub_record(m.value, m.link);
  ASSERT_TRUE(rec) << render(rec.error());
  EXPECT_EQ(rec->cluster, "prod-eu");
  const auto& got = rec->event;
  EXPECT_EQ(got.seq, 0x2au);
  EXPECT_EQ(got.timestamp_ns, t0);
  EXPECT_EQ(got.action, verb::update);
  EXPECT_EQ(got.ns, "shop");
  EXPECT_EQ(got.resource, "deployments");
  EXPECT_EQ(got.group, "apps");
  EXPECT_EQ(got.name, "web");
  EXPECT_EQ(got.uid, "u1");
  EXPECT_EQ(got.resource_version, "42");
  EXPECT_EQ(got.user, ev->user);
  EXPECT_TRUE(got.enriched);
  EXPECT_FALSE(got.warning);
  // The record is the message without its id: `cluster` leads.
  EXPECT_EQ(R"({"id":"000000000000002a",)" + got.record.substr(1), m.value);
  EXPECT_TRUE(got.record.starts_with(R"({"cluster":"prod-eu","timestamp":)"))
    << got.record;
  EXPECT_EQ(rec->type, deps);
}

TEST(hub_record, an_event_keeps_its_link_and_warning_and_class) {
  const resource_type evs{"", "v1", "Event", "events", true};
  auto ev = build_record(
    evs, verb::create,
    R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"e1","namespace":"shop","uid":"ue","resourceVersion":"7"},"involvedObject":{"kind":"Pod","namespace":"shop","name":"p","uid":"up","apiVersion":"v1"},"reason":"BackOff","type":"Warning"})",
    t0);
  ASSERT_TRUE(ev);
  // What the store adds when it stores the record.
  auto at = ev->record.find(R"(,"objectChanges")");
  ASSERT_NE(at, std::string::npos);
  ev->record.insert(at, R"(,"changeClass":"event")");
  ev->link_ns = "shop";
  ev->link_resource = "pods";
  ev->link_name = "p";
  auto m = message_of(*ev, 9);
  EXPECT_EQ(m.link, "shop/pods/p");
  auto rec = parse_hub_record(m.value, m.link);
  ASSERT_TRUE(rec) << render(rec.error());
  EXPECT_TRUE(rec->event.warning);
  EXPECT_EQ(rec->event.link_ns, "shop");
  EXPECT_EQ(rec->event.link_resource, "pods");
  EXPECT_EQ(rec->event.link_name, "p");
  EXPECT_EQ(rec->event.stored_class, static_cast<uint8_t>(change_class::event));
}

TEST(hub_record, a_cluster_scoped_object_has_no_namespace_and_a_link_may_not) {
  auto rec = parse_hub_record(
    R"({"id":"0000000000000003","cluster":"c","timestamp":"2024-01-01T00:00:00Z","verb":"delete","namespace":"","resourceType":"nodes","resourceName":"n1","uid":"un","apiVersion":"v1","kind":"Node","resourceVersion":"5","finalStateUnknown":true,"objectChanges":{}})",
    "/nodes/n1");
  ASSERT_TRUE(rec) << render(rec.error());
  EXPECT_EQ(rec->event.action, verb::remove);
  EXPECT_TRUE(rec->event.final_state_unknown);
  EXPECT_FALSE(rec->type.namespaced);
  EXPECT_EQ(rec->event.link_ns, "");
  EXPECT_EQ(rec->event.link_resource, "nodes");
  EXPECT_EQ(rec->event.link_name, "n1");
}

TEST(hub_record, what_is_no_exported_record_is_named) {
  const std::string rest
    = R"("cluster":"c","timestamp":"2024-01-01T00:00:00Z","verb":"create","namespace":"","resourceType":"nodes","resourceName":"n1","uid":"un","apiVersion":"v1","kind":"Node","resourceVersion":"5","objectChanges":{}})";
  auto why = [](std::string_view value, std::string_view link = {}) {
    auto rec = parse_hub_record(value, link);
    return rec ? std::string{"parsed"} : error_detail(rec.error());
  };
  EXPECT_EQ(why(R"({"id":"0000000000000003",)" + rest), "parsed");
  EXPECT_NE(why("not json").find("16-digit id"), std::string::npos);
  EXPECT_NE(why(R"({"id":"00000000000000zz",)" + rest).find("not a record id"),
            std::string::npos);
  EXPECT_NE(why(R"({"id":"0000000000000000",)" + rest).find("not a record id"),
            std::string::npos);
  EXPECT_NE(why(R"({"id":"0000000000000003","x":1})").find("names no cluster"),
            std::string::npos);
  auto no_verb = rest;
  no_verb.replace(no_verb.find("create"), 6, "patch");
  EXPECT_NE(why(R"({"id":"0000000000000003",)" + no_verb).find("verb"),
            std::string::npos);
  EXPECT_NE(
    why(R"({"id":"0000000000000003",)" + rest, "pods-p").find("malformed link"),
    std::string::npos);
  EXPECT_NE(why(R"({"id":"0000000000000003",{)").find("not a JSON object"),
            std::string::npos);
}

} // namespace
} // namespace kws::storage
