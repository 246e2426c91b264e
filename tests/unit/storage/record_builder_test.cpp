#include "storage/record_builder.hpp"

#include "storage/secret_digest.hpp"
#include "test_util.hpp"
#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

using namespace kws;
using namespace kws::storage;
using namespace kws::storage::test;

namespace {

// 2026-11-26T10:18:00.25Z
constexpr int64_t now = 1'795'688'280'250'000'000;

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

std::string str(const rapidjson::Value& v, const char* key) {
  EXPECT_TRUE(v.HasMember(key)) << key;
  EXPECT_TRUE(v[key].IsString()) << key;
  return v[key].GetString();
}

} // namespace

TEST(record_builder_test, builds_the_exact_contract_record) {
  auto ev = build_record(pods(), verb::create,
                         R"({"kind":"Pod","apiVersion":"v1","metadata":{)"
                         R"("name":"my-pod","namespace":"default",)"
                         R"("uid":"u1","resourceVersion":"7"}})",
                         now);
  ASSERT_TRUE(ev) << render(ev.error());
  EXPECT_EQ(ev->record,
            R"({"timestamp":"2026-11-26T10:18:00.25Z","verb":"create",)"
            R"("user":"system:k8s-watcher","namespace":"default",)"
            R"("resourceType":"pods","resourceName":"my-pod",)"
            R"("responseStatus":201,"message":"Create pods my-pod",)"
            R"("stage":"ResponseComplete",)"
            R"("requestURI":"/api/v1/namespaces/default/pods/my-pod",)"
            R"("uid":"u1","apiVersion":"v1","kind":"Pod",)"
            R"("resourceVersion":"7","objectChanges":{"kind":"Pod",)"
            R"("apiVersion":"v1","metadata":{"name":"my-pod",)"
            R"("namespace":"default","uid":"u1","resourceVersion":"7"}}})");
  EXPECT_EQ(ev->timestamp_ns, now);
  EXPECT_EQ(ev->action, verb::create);
  EXPECT_EQ(ev->ns, "default");
  EXPECT_EQ(ev->resource, "pods");
  EXPECT_EQ(ev->group, "");
  EXPECT_EQ(ev->name, "my-pod");
  EXPECT_EQ(ev->uid, "u1");
  EXPECT_EQ(ev->resource_version, "7");
  EXPECT_EQ(ev->user, "system:k8s-watcher");
  EXPECT_EQ(ev->record.find("\"id\""), std::string::npos);
}

TEST(record_builder_test,
     pod_update_uses_newest_manager_and_drops_managed_fields) {
  auto ev = build_record(pods(), verb::update, read_fixture("pod.json"), now);
  ASSERT_TRUE(ev) << render(ev.error());
  // kubelet's entry is the newest by time even though it is not last.
  EXPECT_EQ(ev->user, "kubelet");
  auto doc = parse(ev->record);
  EXPECT_EQ(str(doc, "user"), "kubelet");
  EXPECT_EQ(str(doc, "verb"), "update");
  EXPECT_EQ(doc["responseStatus"].GetInt(), 200);
  EXPECT_EQ(str(doc, "message"), "Update pods web-7d4b9c8f6-x2x9k");
  EXPECT_EQ(str(doc, "requestURI"),
            "/api/v1/namespaces/default/pods/web-7d4b9c8f6-x2x9k");
  EXPECT_EQ(str(doc, "timestamp"), "2026-11-26T10:18:00.25Z");
  EXPECT_EQ(str(doc, "resourceVersion"), "48213");
  EXPECT_EQ(str(doc, "uid"), "5f0c7e0a-8d4e-4a53-9c2b-0d8c1f3e7a11");
  const auto& obj = doc["objectChanges"];
  ASSERT_TRUE(obj.IsObject());
  EXPECT_FALSE(obj["metadata"].HasMember("managedFields"));
  EXPECT_EQ(str(obj["metadata"], "generateName"), "web-7d4b9c8f6-");
  EXPECT_EQ(obj["spec"]["containers"][0]["ports"][0]["containerPort"].GetInt(),
            80);
  EXPECT_TRUE(obj["status"]["conditions"][0]["lastProbeTime"].IsNull());
  EXPECT_FALSE(doc.HasMember("finalStateUnknown"));
  EXPECT_FALSE(doc.HasMember("involvedObject"));
}

TEST(record_builder_test, first_list_create_takes_the_creation_timestamp) {
  record_options opts;
  opts.from_initial_list = true;
  auto ev
    = build_record(pods(), verb::create, read_fixture("pod.json"), now, opts);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->timestamp_ns, *parse_rfc3339("2026-11-20T08:15:30Z"));
  EXPECT_EQ(str(parse(ev->record), "timestamp"), "2026-11-20T08:15:30Z");
  // Only creates: an update from the first list keeps the delivery time.
  auto upd
    = build_record(pods(), verb::update, read_fixture("pod.json"), now, opts);
  ASSERT_TRUE(upd);
  EXPECT_EQ(upd->timestamp_ns, now);
}

TEST(record_builder_test, inferred_delete_is_marked_final_state_unknown) {
  record_options opts;
  opts.final_state_unknown = true;
  auto ev
    = build_record(pods(), verb::remove, read_fixture("pod.json"), now, opts);
  ASSERT_TRUE(ev);
  EXPECT_TRUE(ev->final_state_unknown);
  auto doc = parse(ev->record);
  EXPECT_EQ(str(doc, "verb"), "delete");
  EXPECT_EQ(doc["responseStatus"].GetInt(), 200);
  EXPECT_EQ(str(doc, "message"), "Delete pods web-7d4b9c8f6-x2x9k");
  ASSERT_TRUE(doc.HasMember("finalStateUnknown"));
  EXPECT_TRUE(doc["finalStateUnknown"].GetBool());
}

TEST(record_builder_test, secret_values_become_digests) {
  resource_type secrets{"", "v1", "Secret", "secrets", true};
  auto json = read_fixture("secret.json");
  auto ev = build_record(secrets, verb::create, json, now);
  ASSERT_TRUE(ev) << render(ev.error());
  EXPECT_EQ(ev->record.find("aHVudGVyMg=="), std::string::npos);
  EXPECT_EQ(ev->record.find("YWRtaW4="), std::string::npos);
  EXPECT_EQ(ev->record.find("s3cr3t-t0ken"), std::string::npos);
  EXPECT_EQ(ev->user, "kubectl-client-side-apply");
  auto doc = parse(ev->record);
  const auto& obj = doc["objectChanges"];
  EXPECT_EQ(str(obj["data"], "password"), sha256_digest("aHVudGVyMg=="));
  EXPECT_EQ(str(obj["data"], "username"), sha256_digest("YWRtaW4="));
  EXPECT_EQ(str(obj["stringData"], "token"), sha256_digest("s3cr3t-t0ken"));
  const auto& ann = obj["metadata"]["annotations"];
  EXPECT_EQ(
    str(ann, "kubectl.kubernetes.io/last-applied-configuration").substr(0, 7),
    "sha256:");
  EXPECT_EQ(str(ann, "team"), "payments");
  EXPECT_EQ(str(obj, "type"), "Opaque");
  // Known vector: sha256("abc").
  EXPECT_EQ(sha256_digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
            "f20015ad");
}

TEST(record_builder_test, secret_digests_are_keyed_with_the_install_key) {
  resource_type secrets{"", "v1", "Secret", "secrets", true};
  auto json = read_fixture("secret.json");
  record_options opts;
  const std::string key = "0123456789abcdef0123456789abcdef";
  opts.digest_key = key;
  auto ev = build_record(secrets, verb::create, json, now, opts);
  ASSERT_TRUE(ev) << render(ev.error());
  auto doc = parse(ev->record);
  const auto& obj = doc["objectChanges"];
  EXPECT_EQ(str(obj["data"], "password"),
            hmac_sha256_digest(key, "aHVudGVyMg=="));
  EXPECT_EQ(str(obj["stringData"], "token"),
            hmac_sha256_digest(key, "s3cr3t-t0ken"));
  EXPECT_NE(str(obj["data"], "password"), sha256_digest("aHVudGVyMg=="));
  const auto& ann = obj["metadata"]["annotations"];
  EXPECT_EQ(
    str(ann, "kubectl.kubernetes.io/last-applied-configuration").substr(0, 12),
    "hmac-sha256:");
  EXPECT_EQ(ev->record.find("aHVudGVyMg=="), std::string::npos);
}

TEST(record_builder_test, secret_digests_can_be_switched_off) {
  resource_type secrets{"", "v1", "Secret", "secrets", true};
  record_options opts;
  opts.digest_secrets = false;
  auto ev = build_record(secrets, verb::create, read_fixture("secret.json"),
                         now, opts);
  ASSERT_TRUE(ev);
  EXPECT_NE(ev->record.find("aHVudGVyMg=="), std::string::npos);
}

TEST(record_builder_test, core_event_carries_its_message_and_target) {
  auto ev = build_record(core_events(), verb::create,
                         read_fixture("event_v1.json"), now);
  ASSERT_TRUE(ev) << render(ev.error());
  auto doc = parse(ev->record);
  EXPECT_EQ(
    str(doc, "message"),
    "Back-off restarting failed container web in pod "
    "web-7d4b9c8f6-x2x9k_default(5f0c7e0a-8d4e-4a53-9c2b-0d8c1f3e7a11)");
  EXPECT_EQ(str(doc, "reason"), "BackOff");
  EXPECT_EQ(str(doc, "type"), "Warning");
  ASSERT_TRUE(doc["count"].IsInt());
  EXPECT_EQ(doc["count"].GetInt(), 7);
  const auto& inv = doc["involvedObject"];
  EXPECT_EQ(str(inv, "kind"), "Pod");
  EXPECT_EQ(str(inv, "namespace"), "default");
  EXPECT_EQ(str(inv, "name"), "web-7d4b9c8f6-x2x9k");
  EXPECT_EQ(str(inv, "uid"), "5f0c7e0a-8d4e-4a53-9c2b-0d8c1f3e7a11");
  EXPECT_EQ(str(inv, "apiVersion"), "v1");
  EXPECT_EQ(inv.MemberCount(), 5u);
  EXPECT_EQ(str(doc, "resourceType"), "events");
  EXPECT_EQ(ev->involved_uid, "5f0c7e0a-8d4e-4a53-9c2b-0d8c1f3e7a11");
  EXPECT_EQ(ev->involved_kind, "Pod");
  EXPECT_EQ(ev->involved_api_version, "v1");
  EXPECT_EQ(ev->involved_ns, "default");
  EXPECT_EQ(ev->involved_name, "web-7d4b9c8f6-x2x9k");
  EXPECT_EQ(ev->user, "kubelet");
  EXPECT_TRUE(ev->link_resource.empty());
}

TEST(record_builder_test, events_k8s_io_event_uses_note_and_regarding) {
  resource_type modern{"events.k8s.io", "v1", "Event", "events", true};
  auto ev = build_record(modern, verb::update,
                         read_fixture("event_events_k8s_io.json"), now);
  ASSERT_TRUE(ev) << render(ev.error());
  auto doc = parse(ev->record);
  EXPECT_EQ(str(doc, "message"), "Scaled up replica set web-7d4b9c8f6 to 3");
  EXPECT_EQ(str(doc, "reason"), "ScalingReplicaSet");
  EXPECT_EQ(str(doc, "type"), "Normal");
  EXPECT_EQ(doc["count"].GetInt(), 3);
  EXPECT_EQ(str(doc["involvedObject"], "kind"), "Deployment");
  EXPECT_EQ(str(doc["involvedObject"], "apiVersion"), "apps/v1");
  EXPECT_EQ(str(doc, "requestURI"),
            "/apis/events.k8s.io/v1/namespaces/default/events/"
            "web.17a8c3f2b1e4d5d0");
  EXPECT_EQ(ev->involved_kind, "Deployment");
  EXPECT_EQ(ev->involved_api_version, "apps/v1");
  EXPECT_EQ(ev->involved_ns, "default");
  EXPECT_EQ(ev->involved_name, "web");
  EXPECT_EQ(ev->group, "events.k8s.io");
}

TEST(record_builder_test, node_is_cluster_scoped) {
  auto ev = build_record(nodes(), verb::update, read_fixture("node.json"), now);
  ASSERT_TRUE(ev);
  auto doc = parse(ev->record);
  EXPECT_EQ(str(doc, "namespace"), "");
  EXPECT_EQ(str(doc, "requestURI"), "/api/v1/nodes/node-1");
  EXPECT_EQ(str(doc, "user"), "kubelet");
  EXPECT_EQ(ev->ns, "");
}

TEST(record_builder_test, deployment_path_names_its_group) {
  auto ev = build_record(deployments(), verb::update,
                         read_fixture("deployment.json"), now);
  ASSERT_TRUE(ev);
  auto doc = parse(ev->record);
  EXPECT_EQ(str(doc, "requestURI"),
            "/apis/apps/v1/namespaces/default/deployments/web");
  EXPECT_EQ(str(doc, "apiVersion"), "apps/v1");
  EXPECT_EQ(str(doc, "message"), "Update deployments web");
  EXPECT_EQ(ev->group, "apps");
}

TEST(record_builder_test, missing_kind_and_api_version_come_from_the_type) {
  auto ev = build_record(deployments(), verb::create,
                         R"({"metadata":{"name":"w","namespace":"n"}})", now);
  ASSERT_TRUE(ev);
  auto doc = parse(ev->record);
  EXPECT_EQ(str(doc, "apiVersion"), "apps/v1");
  EXPECT_EQ(str(doc, "kind"), "Deployment");
  EXPECT_EQ(str(doc, "uid"), "");
}

TEST(record_builder_test, malformed_input_is_a_parse_error) {
  std::string deep(100'000, '[');
  for (const std::string& bad :
       {std::string{""}, std::string{"{"}, std::string{"[]"},
        std::string{"null"}, std::string{"{\"metadata\":{}}"},
        std::string{"{\"metadata\":[]}"},
        std::string{"{\"metadata\":{\"name\":5}}"},
        std::string{"{\"metadata\":{\"name\":\"a\"}} trailing"},
        std::string{"{\"metadata\":{\"name\":\"a\"},}"}, deep,
        R"({"a":)" + std::string(2000, '{')}) {
    auto ev = build_record(pods(), verb::create, bad, now);
    ASSERT_FALSE(ev) << bad.substr(0, 40);
    EXPECT_EQ(ev.error(), ec::parse_error);
  }
}

TEST(record_builder_test, strings_are_escaped) {
  auto ev = build_record(
    pods(), verb::create,
    R"({"metadata":{"name":"a","namespace":"n","annotations":{"q":"say \"hi\"\n\u00e9"}}})",
    now);
  ASSERT_TRUE(ev);
  auto doc = parse(ev->record);
  EXPECT_EQ(str(doc["objectChanges"]["metadata"]["annotations"], "q"),
            "say \"hi\"\n\xc3\xa9");
}

namespace {

/// Builds through the document entry point, as the ingest path does.
caf::expected<resource_event> build_parsed(const resource_type& rt, verb v,
                                           const std::string& json,
                                           bool with_text,
                                           const record_options& opts = {}) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return build_record(rt, v, doc, doc.GetAllocator(),
                      with_text ? std::string_view{json} : std::string_view{},
                      now, opts);
}

std::string compact(const std::string& json) {
  auto doc = parse(json);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  doc.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

} // namespace

TEST(record_builder_test, parsed_object_gives_the_same_record) {
  // Compact, as the apiserver sends it; managedFields in the middle.
  auto pod = compact(read_fixture("pod.json"));
  resource_type secrets{"", "v1", "Secret", "secrets", true};
  auto secret = compact(read_fixture("secret.json"));
  for (auto with_text : {false, true}) {
    auto a = build_record(pods(), verb::update, pod, now);
    auto b = build_parsed(pods(), verb::update, pod, with_text);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(b->record, a->record) << with_text;
    EXPECT_EQ(b->user, "kubelet");
    EXPECT_EQ(b->uid, a->uid);
    auto c = build_record(secrets, verb::create, secret, now);
    auto d = build_parsed(secrets, verb::create, secret, with_text);
    ASSERT_TRUE(c && d);
    EXPECT_EQ(d->record, c->record) << with_text;
    EXPECT_EQ(d->record.find("s3cr3t-t0ken"), std::string::npos);
  }
}

TEST(record_builder_test, copied_object_text_keeps_its_bytes) {
  // Go escapes '<' and keeps "1.0": a copy keeps both, a rewrite would not.
  std::string json = R"({"metadata":{"name":"a","namespace":"n",)"
                     R"("managedFields":[{"manager":"m","time":null}],)"
                     R"("resourceVersion":"3"},"data":{"x":"\u003cb\u003e",)"
                     R"("n":1.0}})";
  record_options opts;
  opts.copy_object_text = true;
  auto ev = build_record(pods(), verb::update, json, now, opts);
  ASSERT_TRUE(ev) << render(ev.error());
  auto tail = std::string{R"("objectChanges":{"metadata":{"name":"a",)"}
    + R"("namespace":"n","resourceVersion":"3"},"data":{"x":)"
    + R"("\u003cb\u003e","n":1.0}}})";
  ASSERT_GE(ev->record.size(), tail.size());
  EXPECT_EQ(ev->record.substr(ev->record.size() - tail.size()), tail);
  EXPECT_EQ(ev->user, "m");
  auto doc = parse(ev->record);
  EXPECT_EQ(str(doc["objectChanges"]["data"], "x"), "<b>");
}

TEST(record_builder_test, managed_fields_are_cut_wherever_they_stand) {
  auto cut = [](const std::string& json) {
    auto [b, e] = managed_fields_span(json);
    return e > b ? json.substr(0, b) + json.substr(e) : json;
  };
  EXPECT_EQ(cut(R"({"metadata":{"managedFields":[{"a":"]"}],"name":"x"}})"),
            R"({"metadata":{"name":"x"}})");
  EXPECT_EQ(cut(R"({"metadata":{"name":"x","managedFields":[{}]}})"),
            R"({"metadata":{"name":"x"}})");
  EXPECT_EQ(
    cut(R"({"metadata":{"name":"x","managedFields":[],"uid":"u"},"b":1})"),
    R"({"metadata":{"name":"x","uid":"u"},"b":1})");
  EXPECT_EQ(cut(R"({"metadata":{"managedFields":null}})"),
            R"({"metadata":{}})");
  EXPECT_EQ(cut("{ \"metadata\" : { \"name\" : \"x\" , "
                "\"managedFields\" : [ 1 ] } }"),
            "{ \"metadata\" : { \"name\" : \"x\" } }");
  // Only metadata's own member, never a nested or a top-level one.
  for (const std::string& none :
       {std::string{R"({"managedFields":[],"metadata":{"name":"x"}})"},
        std::string{R"({"metadata":{"labels":{"managedFields":"y"}}})"},
        std::string{R"({"spec":{"metadata":{"managedFields":[]}}})"},
        std::string{R"({"metadata":{"name":"x\"managedFields\":"}})"},
        std::string{R"({"metadata":{"name":)"}, std::string{}}) {
    auto [b, e] = managed_fields_span(none);
    EXPECT_EQ(b, e) << none;
  }
}

TEST(record_builder_test, parsed_object_errors) {
  rapidjson::Document doc;
  doc.Parse(R"([1])");
  auto ev
    = build_record(pods(), verb::create, doc, doc.GetAllocator(), {}, now);
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error(), ec::parse_error);
  std::string deep = R"({"metadata":{"name":"a"},"x":)" + std::string(600, '[')
    + std::string(600, ']') + "}";
  doc.Parse(deep.data(), deep.size());
  ASSERT_FALSE(doc.HasParseError());
  // Re-serializing would recurse 600 levels: refused like the text entry.
  auto deep_ev
    = build_record(pods(), verb::create, doc, doc.GetAllocator(), {}, now);
  ASSERT_FALSE(deep_ev);
  EXPECT_EQ(deep_ev.error(), ec::parse_error);
}
