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

TEST(field_managers_test, owners_of_a_deployment) {
  auto object = parse(deployment);
  field_owners owners(managed_fields, object);
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
  field_owners owners(managed_fields, object);
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
  field_owners owners(managed_fields, object);
  EXPECT_EQ(owners.owner_of("/metadata/finalizers/1"), "finalizer-bot");
  EXPECT_EQ(owners.owner_of("/metadata/finalizers/0"), "");
  // Same depth: the newest time wins.
  EXPECT_EQ(owners.owner_of("/spec/paused"), "new-pauser");
  // Same depth and time: the first entry wins.
  auto small = parse(R"({"a":[5,6]})");
  field_owners tie(
    R"([{"manager":"one","time":"t","fieldsV1":{"f:a":{}}},)"
    R"({"manager":"two","time":"t","fieldsV1":{"f:a":{"i:1":{}}}},)"
    R"({"manager":"three","time":"t","fieldsV1":{"f:a":{"i:1":{}}}}])",
    small);
  EXPECT_EQ(tie.owner_of("/a/1"), "two");
  EXPECT_EQ(tie.owner_of("/a/0"), "one");
}

TEST(field_managers_test, unknown_paths_have_no_owner) {
  auto object = parse(deployment);
  field_owners owners(managed_fields, object);
  EXPECT_EQ(owners.owner_of("/spec/unknown"), "");
  EXPECT_EQ(owners.owner_of(""), "");
  EXPECT_EQ(owners.owner_of("not a pointer"), "");
  EXPECT_EQ(owners.owner_of("/spec/template/spec/containers/7/image"), "");
  EXPECT_EQ(owners.owner_of("/spec/template/spec/containers/x/image"), "");
  // No entries, or broken fieldsV1: nobody.
  for (const char* text :
       {"", "[", "[]", R"([{"manager":"m","time":"t","fieldsV1":"{"}])"})
    EXPECT_EQ(field_owners(text, object).owner_of("/spec/replicas"), "")
      << text;
}
