#include "storage/change_message.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

using namespace kws::storage;

namespace {

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

std::string message(std::string_view prefix, const std::string& from,
                    const std::string& to) {
  auto a = parse(from);
  auto b = parse(to);
  return update_message(prefix, changed_paths(a, b), a, b);
}

std::string deployment(int generation, int replicas, const char* image) {
  return R"({"kind":"Deployment","metadata":{"name":"web","generation":)"
    + std::to_string(generation) + R"(,"resourceVersion":")"
    + std::to_string(100 + generation) + R"("},"spec":{"replicas":)"
    + std::to_string(replicas)
    + R"(,"template":{"spec":{"containers":[{"name":"web","image":")" + image
    + R"("}]}}}})";
}

std::string pod(const std::string& state) {
  return R"({"kind":"Pod","metadata":{"name":"p"},"status":{"containerStatuses":[)"
         R"({"name":"app","ready":false,"state":)"
    + state + "}]}}";
}

std::string node(const char* ready, const char* reason, const char* msg) {
  return std::string{
           R"({"kind":"Node","metadata":{"name":"n1"},"status":{"conditions":[)"}
  + R"({"type":"MemoryPressure","status":"False","reason":"KubeletHasSufficientMemory"},)"
    + R"({"type":"Ready","status":")" + ready + R"(","reason":")" + reason
    + R"(","message":")" + msg + R"("}]}})";
}

const std::string arrow = "\u2192";
const std::string ellipsis = "\u2026";

} // namespace

TEST(change_message_test, scale_and_image_change) {
  auto a = parse(deployment(1, 2, "web:1"));
  auto b = parse(deployment(1, 3, "web:2"));
  // Same generation and resourceVersion: exactly two changed paths.
  EXPECT_EQ(update_message("Update deployments web", changed_paths(a, b), a, b),
            "Update deployments web: /spec/replicas 2→3, "
            "/spec/template/spec/containers/0/image web:1→web:2");
}

TEST(change_message_test, bookkeeping_comes_last_and_is_counted) {
  EXPECT_EQ(message("Update deployments web", deployment(1, 2, "web:1"),
                    deployment(2, 3, "web:2")),
            "Update deployments web: /spec/replicas 2→3, "
            "/spec/template/spec/containers/0/image web:1→web:2, "
            "/metadata/generation 1→2, +1 more");
}

TEST(change_message_test, adds_removes_and_containers) {
  EXPECT_EQ(message("Update configmaps c", R"({"data":{"a":"1"}})",
                    R"({"data":{"b":"2","c":{"x":1}}})"),
            "Update configmaps c: /data/a removed, /data/b →2, /data/c/x →1");
  EXPECT_EQ(message("Update x y", R"({"a":{"b":1}})", R"({"a":"s"})"),
            "Update x y: /a changed, /a/b removed");
  EXPECT_EQ(message("Update x y", R"({"a":{}})", R"({"a":{"b":[]}})"),
            "Update x y: /a changed, /a/b added");
  EXPECT_EQ(message("Update x y", R"({"a":true})", R"({"a":null})"),
            "Update x y: /a true→null");
}

TEST(change_message_test, no_change) {
  EXPECT_EQ(message("Update x y", R"({"a":1})", R"({"a":1})"),
            "Update x y: no change");
}

TEST(change_message_test, pod_image_pull_back_off) {
  auto from = pod(R"({"waiting":{"reason":"ContainerCreating"}})");
  auto to = pod(
    R"({"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image \"x\""}})");
  EXPECT_EQ(message("Update pods p", from, to),
            "Update pods p: container app waiting: ImagePullBackOff: "
            "Back-off pulling image \"x\"; /status/containerStatuses/0/state/"
            "waiting/message →Back-off pulling image \"x\", "
            "/status/containerStatuses/0/state/waiting/reason "
            "ContainerCreating→ImagePullBackOff");
  // Same reason, new message: no note.
  auto again = pod(
    R"({"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image \"y\""}})");
  auto a = parse(to);
  auto b = parse(again);
  EXPECT_TRUE(state_notes(&a, b).empty());
}

TEST(change_message_test, pod_oom_killed) {
  auto from = pod(R"({"running":{"startedAt":"2026-01-01T00:00:00Z"}})");
  auto to = pod(R"({"terminated":{"reason":"OOMKilled","exitCode":137}})");
  auto a = parse(from);
  auto b = parse(to);
  EXPECT_EQ(state_notes(&a, b),
            (std::vector<std::string>{"container app terminated: OOMKilled "
                                      "(exit 137)"}));
  auto msg = message("Update pods p", from, to);
  EXPECT_EQ(msg.rfind("Update pods p: container app terminated: OOMKilled "
                      "(exit 137); /status/containerStatuses/0/state/",
                      0),
            0u)
    << msg;
  // A create lists the state as it is; running containers give nothing.
  EXPECT_EQ(state_notes(nullptr, b).size(), 1u);
  EXPECT_TRUE(state_notes(nullptr, a).empty());
  // Without a reason the kind stands alone.
  auto bare = parse(pod(R"({"terminated":{"exitCode":1}})"));
  EXPECT_EQ(state_notes(nullptr, bare),
            (std::vector<std::string>{"container app terminated"}));
}

TEST(change_message_test, init_and_ephemeral_containers) {
  auto to = parse(
    R"({"kind":"Pod","status":{"initContainerStatuses":[{"name":"init","state":)"
    R"({"waiting":{"reason":"CrashLoopBackOff"}}}],"ephemeralContainerStatuses":)"
    R"([{"name":"dbg","state":{"terminated":{"reason":"Error","exitCode":2}}}]}})");
  EXPECT_EQ(
    state_notes(nullptr, to),
    (std::vector<std::string>{"container init waiting: CrashLoopBackOff",
                              "container dbg terminated: Error (exit 2)"}));
  // Not a Pod: no notes.
  auto other = parse(
    R"({"kind":"PodTemplate","status":{"containerStatuses":[{"name":"a","state":)"
    R"({"waiting":{"reason":"X"}}}]}})");
  EXPECT_TRUE(state_notes(nullptr, other).empty());
}

TEST(change_message_test, node_ready_flip) {
  auto from = node("True", "KubeletReady", "kubelet is posting ready status");
  auto to = node("False", "KubeletNotReady", "PLEG is not healthy");
  EXPECT_EQ(message("Update nodes n1", from, to),
            "Update nodes n1: Ready False: KubeletNotReady PLEG is not "
            "healthy; /status/conditions/1/message kubelet is posting ready "
            "status→PLEG is not healthy, /status/conditions/1/reason "
            "KubeletReady→KubeletNotReady, /status/conditions/1/status "
            "True→False");
  auto bare = parse(
    R"({"kind":"Node","status":{"conditions":[{"type":"Ready","status":"Unknown"}]}})");
  EXPECT_EQ(state_notes(nullptr, bare),
            (std::vector<std::string>{"Ready Unknown"}));
}

TEST(change_message_test, long_values_are_cut) {
  std::string a(60, 'a');
  std::string b(40, 'b');
  EXPECT_EQ(
    message("Update x y", R"({"v":")" + a + R"("})", R"({"v":")" + b + R"("})"),
    "Update x y: /v " + std::string(40, 'a') + ellipsis + arrow + b);
}

TEST(change_message_test, cuts_never_split_utf8) {
  // 45 two-byte characters: 40 of them survive, whole.
  std::string e;
  for (int i = 0; i < 45; ++i)
    e += "\xc3\xa9";
  auto msg = message("Update x y", R"({"v":1})", R"({"v":")" + e + R"("})");
  EXPECT_EQ(msg, "Update x y: /v 1" + arrow + e.substr(0, 80) + ellipsis);
  EXPECT_EQ(cut_utf8("a\xc3\xa9", 4), "a\xc3\xa9");
  EXPECT_EQ(cut_utf8("ab\xc3\xa9z", 5), "ab\xc3\xa9z");
  EXPECT_EQ(cut_utf8("ab\xc3\xa9zz", 5), "ab" + ellipsis);
  EXPECT_EQ(cut_utf8("a\xc3\xa9zzz", 5), "a" + ellipsis);
  EXPECT_EQ(cut_utf8("abc", 2), "");
}

TEST(change_message_test, messages_stay_under_512_bytes) {
  std::string msg(2000, 'm');
  auto from = parse(pod(R"({"running":{}})"));
  auto to = parse(
    pod(R"({"waiting":{"reason":"ErrImagePull","message":")" + msg + R"("}})"));
  auto out
    = update_message(std::string(300, 'P'), changed_paths(from, to), from, to);
  EXPECT_LT(out.size(), 512u);
  // Both parts keep their start; the long one is cut.
  EXPECT_NE(out.find("container app waiting: ErrImagePull: mmm"),
            std::string::npos);
  EXPECT_NE(out.find("; /status/containerStatuses/0/state"), std::string::npos);
  EXPECT_NE(out.find(ellipsis), std::string::npos);
  // Many parts, multi-byte text everywhere: still under the limit and valid.
  std::string statuses;
  for (int i = 0; i < 200; ++i)
    statuses += std::string(i > 0 ? "," : "") + R"({"name":"c)"
      + std::to_string(i)
      + R"(\u00e9\u00e9","state":{"waiting":{"reason":"\u00e9\u00e9\u00e9"}}})";
  auto many = parse(R"({"kind":"Pod","status":{"containerStatuses":[)"
                    + statuses + "]}}");
  auto empty = parse(R"({"kind":"Pod"})");
  auto big
    = update_message("Create pods p", changed_paths(empty, many), empty, many);
  EXPECT_LT(big.size(), 512u);
  EXPECT_EQ(big.rfind("Create pods p: container c0", 0), 0u) << big;
  // The notes that do not fit are counted, the paths part among them.
  EXPECT_TRUE(big.ends_with(" more")) << big;
  EXPECT_EQ(big.find("; ; "), std::string::npos) << big;
}
