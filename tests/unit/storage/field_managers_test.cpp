#include "storage/field_managers.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

using namespace kws::storage;

namespace {

using names = std::vector<std::string>;

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

// A Deployment as the apiserver sends it, managedFields cut out.
const std::string deployment
  = R"({"apiVersion":"apps/v1","kind":"Deployment",)"
    R"("metadata":{"name":"web","namespace":"default","labels":{"app":"web"},)"
    R"("finalizers":["a.io/x","b.io/y"],)"
    R"("annotations":{"deployment.kubernetes.io/revision":"2",)"
    R"("kubectl.kubernetes.io/last-applied-configuration":"{}"}},)"
    R"("spec":{"replicas":3,"paused":false,"selector":{"matchLabels":{"app":"web"}},)"
    R"("template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[)"
    R"({"name":"side","image":"side:1"},)"
    R"({"name":"web","image":"web:2","args":["a","b"],)"
    R"("ports":[{"containerPort":80,"protocol":"TCP"}]}]}}},)"
    R"("status":{"replicas":3,"conditions":[{"type":"Progressing","status":"True"},)"
    R"({"type":"Available","status":"True"}]}})";

const std::string managed_fields
  = R"([)"
    R"({"manager":"kubectl-client-side-apply","operation":"Update",)"
    R"("apiVersion":"apps/v1","time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1",)"
    R"("fieldsV1":{"f:metadata":{"f:annotations":{".":{},)"
    R"("f:kubectl.kubernetes.io/last-applied-configuration":{}},)"
    R"("f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},)"
    R"("f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{)"
    R"("f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},)"
    R"("f:args":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":)"
    R"({".":{},"f:containerPort":{},"f:protocol":{}}}}}}}}}},)"
    R"({"manager":"kube-controller-manager","operation":"Update","subresource":"status",)"
    R"("time":"2026-01-02T00:00:00Z","fieldsV1":{"f:status":{"f:replicas":{},)"
    R"("f:conditions":{".":{},"k:{\"type\":\"Available\"}":{".":{},"f:status":{},)"
    R"("f:type":{}}}}}},)"
    R"({"manager":"kube-controller-manager","operation":"Update",)"
    R"("time":"2026-01-02T00:00:00Z","fieldsV1":{"f:metadata":{"f:annotations":{)"
    R"("f:deployment.kubernetes.io/revision":{}}}}},)"
    R"({"manager":"sidecar-injector","operation":"Apply","time":"2026-01-03T00:00:00Z",)"
    R"("fieldsV1":{"f:spec":{"f:template":{"f:spec":{"f:containers":{)"
    R"("k:{\"name\":\"side\"}":{"f:image":{}}}}}}}},)"
    R"({"manager":"finalizer-bot","operation":"Update","time":"2026-01-01T00:00:00Z",)"
    R"("fieldsV1":{"f:metadata":{"f:finalizers":{".":{},"v:\"b.io/y\"":{}}}}},)"
    R"({"manager":"old-pauser","operation":"Update","time":"2025-01-01T00:00:00Z",)"
    R"("fieldsV1":{"f:spec":{"f:paused":{}}}},)"
    R"({"manager":"new-pauser","operation":"Update","time":"2026-06-01T00:00:00Z",)"
    R"("fieldsV1":{"f:spec":{"f:paused":{}}}},)"
    R"({"manager":"selector-detail","operation":"Update","time":"2020-01-01T00:00:00Z",)"
    R"("fieldsV1":{"f:spec":{"f:selector":{"f:matchLabels":{"f:app":{}}}}}}])";

} // namespace

TEST(field_managers_test, parses_entries) {
  auto entries = parse_managed_fields(
    R"([{"manager":"m","operation":"Apply","subresource":"status",)"
    R"("time":"t","fieldsV1":{"f:a": {}}},7,{"operation":"Update"},)"
    R"({"manager":3},{"manager":"n"}])");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].manager, "m");
  EXPECT_EQ(entries[0].operation, "Apply");
  EXPECT_EQ(entries[0].subresource, "status");
  EXPECT_EQ(entries[0].time, "t");
  EXPECT_EQ(entries[0].fields_v1, R"({"f:a":{}})");
  EXPECT_EQ(entries[1].manager, "n");
  EXPECT_EQ(entries[1].operation, "");
  EXPECT_EQ(entries[1].fields_v1, "");
  EXPECT_TRUE(parse_managed_fields("").empty());
  EXPECT_TRUE(parse_managed_fields("[").empty());
  EXPECT_TRUE(parse_managed_fields(R"({"manager":"m"})").empty());
  EXPECT_EQ(parse_managed_fields(managed_fields).size(), 8u);
}

TEST(field_managers_test, fingerprint_format_and_stability) {
  managed_entry a{"m", "Update", "", "t", ""};
  managed_entry b{"k", "Apply", "status", "u", "a"};
  // FNV-1a 64 of "" and of "a".
  EXPECT_EQ(fingerprint({a}),
            "m\x1fUpdate\x1f\x1ft\x1f"
            "cbf29ce484222325");
  EXPECT_EQ(fingerprint({a, b}),
            "k\x1f"
            "Apply\x1fstatus\x1fu\x1f"
            "af63dc4c8601ec8c\x1e"
            "m\x1fUpdate\x1f\x1ft\x1f"
            "cbf29ce484222325");
  EXPECT_EQ(fingerprint({a, b}), fingerprint({b, a}));
  EXPECT_EQ(fingerprint({}), "");
  auto entries = parse_managed_fields(managed_fields);
  auto fp = fingerprint(entries);
  EXPECT_EQ(fingerprint(parse_managed_fields(managed_fields)), fp);
  entries[3].fields_v1 = R"({"f:spec":{}})";
  EXPECT_NE(fingerprint(entries), fp);
}

TEST(field_managers_test, changed_managers) {
  auto entries = parse_managed_fields(managed_fields);
  EXPECT_EQ(changed_managers("", entries),
            (names{"finalizer-bot", "kube-controller-manager",
                   "kubectl-client-side-apply", "new-pauser", "old-pauser",
                   "selector-detail", "sidecar-injector"}));
  auto fp = fingerprint(entries);
  EXPECT_TRUE(changed_managers(fp, entries).empty());
  auto next = entries;
  next[1].time = "2026-02-01T00:00:00Z";  // kcm status
  next[3].fields_v1 = R"({"f:spec":{}})"; // sidecar-injector
  next.push_back({"kubectl-client-side-apply", "Update", "scale", "t", "{}"});
  next.erase(next.begin() + 4); // finalizer-bot gone: not a change
  EXPECT_EQ(changed_managers(fp, next),
            (names{"kube-controller-manager", "kubectl-client-side-apply",
                   "sidecar-injector"}));
  EXPECT_TRUE(changed_managers(fp, {}).empty());
  EXPECT_EQ(changed_managers("garbage", {entries[0]}),
            (names{"kubectl-client-side-apply"}));
}

TEST(field_managers_test, owners_of_a_deployment) {
  auto object = parse(deployment);
  field_owners owners(parse_managed_fields(managed_fields), object);
  const std::string kubectl = "kubectl-client-side-apply";
  const std::string kcm = "kube-controller-manager";
  EXPECT_EQ(owners.owner_of("/spec/replicas"), kubectl);
  EXPECT_EQ(owners.owner_of("/metadata/labels/app"), kubectl);
  EXPECT_EQ(owners.owner_of("/metadata/labels"), kubectl);
  EXPECT_EQ(
    owners.owner_of("/metadata/annotations/"
                    "kubectl.kubernetes.io~1last-applied-configuration"),
    kubectl);
  EXPECT_EQ(
    owners.owner_of("/metadata/annotations/deployment.kubernetes.io~1revision"),
    kcm);
  EXPECT_EQ(owners.owner_of("/status/replicas"), kcm);
  // Conditions by type: Available (index 1) is owned, Progressing is not.
  EXPECT_EQ(owners.owner_of("/status/conditions/1/status"), kcm);
  EXPECT_EQ(owners.owner_of("/status/conditions/0/status"), "");
  // Containers by name, whatever their index.
  EXPECT_EQ(owners.owner_of("/spec/template/spec/containers/1/image"), kubectl);
  EXPECT_EQ(owners.owner_of("/spec/template/spec/containers/0/image"),
            "sidecar-injector");
  EXPECT_EQ(owners.owner_of("/spec/template/spec/containers/0/name"), "");
  EXPECT_EQ(
    owners.owner_of("/spec/template/spec/containers/1/ports/0/protocol"),
    kubectl);
}

TEST(field_managers_test, atomic_leaves_own_what_is_below) {
  auto object = parse(deployment);
  field_owners owners(parse_managed_fields(managed_fields), object);
  EXPECT_EQ(owners.owner_of("/spec/template/spec/containers/1/args/1"),
            "kubectl-client-side-apply");
  EXPECT_EQ(owners.owner_of("/spec/selector"), "kubectl-client-side-apply");
  // The deeper match beats the atomic prefix.
  EXPECT_EQ(owners.owner_of("/spec/selector/matchLabels/app"),
            "selector-detail");
  // A path below a non-leaf node the tree does not list: nobody.
  EXPECT_EQ(owners.owner_of("/metadata/labels/other"), "");
}

TEST(field_managers_test, set_values_and_ties) {
  auto object = parse(deployment);
  field_owners owners(parse_managed_fields(managed_fields), object);
  EXPECT_EQ(owners.owner_of("/metadata/finalizers/1"), "finalizer-bot");
  EXPECT_EQ(owners.owner_of("/metadata/finalizers/0"), "");
  // Same depth: the newest time wins.
  EXPECT_EQ(owners.owner_of("/spec/paused"), "new-pauser");
  // Same depth and time: the first entry wins.
  auto small = parse(R"({"a":[5,6]})");
  field_owners tie({{"one", "Update", "", "t", R"({"f:a":{}})"},
                    {"two", "Update", "", "t", R"({"f:a":{"i:1":{}}})"},
                    {"three", "Update", "", "t", R"({"f:a":{"i:1":{}}})"}},
                   small);
  EXPECT_EQ(tie.owner_of("/a/1"), "two");
  EXPECT_EQ(tie.owner_of("/a/0"), "one");
}

TEST(field_managers_test, unknown_paths_have_no_owner) {
  auto object = parse(deployment);
  field_owners owners(parse_managed_fields(managed_fields), object);
  EXPECT_EQ(owners.owner_of("/spec/unknown"), "");
  EXPECT_EQ(owners.owner_of(""), "");
  EXPECT_EQ(owners.owner_of("not a pointer"), "");
  EXPECT_EQ(owners.owner_of("/spec/template/spec/containers/7/image"), "");
  EXPECT_EQ(owners.owner_of("/spec/template/spec/containers/x/image"), "");
  // No entries, or broken fieldsV1: nobody.
  EXPECT_EQ(field_owners(std::vector<managed_entry>{}, object)
              .owner_of("/spec/replicas"),
            "");
  EXPECT_EQ(field_owners({{"m", "Update", "", "t", "{"}}, object)
              .owner_of("/spec/replicas"),
            "");
}
