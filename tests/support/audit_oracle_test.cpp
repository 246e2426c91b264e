// The audit oracle's reading of pod deletes: which writes leave versions no
// audit line names, so that the e2e comparisons fail only on the service.
#include "tests/support/audit_oracle.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace kws::test;

namespace {

const object_key pod{"pods", "t-1", "job-1-abcde"};

/// One audit line of a write to the pod, answered with `answer`.
std::string line(const std::string& verb, const std::string& subresource,
                 const std::string& answer) {
  return R"({"verb":")" + verb + R"(","objectRef":{"resource":"pods",)"
    + R"("namespace":"t-1","name":"job-1-abcde","subresource":")" + subresource
    + R"("},"responseStatus":{"code":200},)"
    + R"("requestReceivedTimestamp":"2026-12-06T10:00:00Z",)"
    + R"("stageTimestamp":"2026-12-06T10:00:00.1Z","responseObject":)" + answer
    + "}";
}

/// The pod as an answer shows it; `rv` empty leaves resourceVersion out.
std::string pod_answer(const std::string& rv, const std::string& deletion) {
  return R"({"kind":"Pod","metadata":{"name":"job-1-abcde","uid":"u1")"
    + (rv.empty() ? std::string{} : R"(,"resourceVersion":")" + rv + "\"")
    + deletion + "}}";
}

const std::string terminating_with_grace_1
  = R"(,"deletionTimestamp":"2026-12-06T10:00:01Z",)"
    R"("deletionGracePeriodSeconds":1)";
const std::string terminating_with_grace_0
  = R"(,"deletionTimestamp":"2026-12-06T10:00:00Z",)"
    R"("deletionGracePeriodSeconds":0)";
const std::string binding_status
  = R"({"kind":"Status","status":"Success","code":201})";

/// Reads `lines` through a log file, as the e2e tests do.
audit_oracle oracle_of(const std::vector<std::string>& lines) {
  auto path = std::filesystem::temp_directory_path()
    / ("audit-oracle-test-" + std::to_string(::getpid()) + ".log");
  {
    std::ofstream out{path};
    for (auto& l : lines)
      out << l << "\n";
  }
  audit_oracle oracle{path.string(), "t", {"pods"}};
  oracle.update();
  std::filesystem::remove(path);
  return oracle;
}

record_digest record(const std::string& verb, const std::string& rv) {
  return {
    .id = rv, .key = pod, .verb = verb, .uid = "u1", .resource_version = rv};
}

} // namespace

// The scheduler's binding and a graceful delete, then the fake kubelet's
// force delete loses a race with another delete: it wrote the grace period
// 0 first (version 12, in no audit line) and answers without a
// resourceVersion. Its update is counted like that of any force delete.
TEST(audit_oracle_test,
     a_force_delete_that_lost_a_race_still_wrote_its_update) {
  auto oracle = oracle_of({
    line("create", "", pod_answer("10", "")),
    line("create", "binding", binding_status),
    line("delete", "", pod_answer("11", terminating_with_grace_1)),
    line("delete", "", pod_answer("", terminating_with_grace_0)),
  });
  ASSERT_TRUE(oracle.problems.empty())
    << ::testing::PrintToString(oracle.problems);
  EXPECT_EQ(oracle.bindings[pod].size(), 1u);
  EXPECT_EQ(oracle.delete_updates[pod].size(), 1u);
  std::vector<record_digest> records{
    record("create", "10"), record("update", "10b"), record("update", "11"),
    record("update", "12"), record("delete", "13")};
  EXPECT_EQ(compare_with_oracle(oracle, records), std::vector<std::string>{});
  // A recorder that wrote one more version than the writes explain is
  // still caught.
  records.push_back(record("update", "12b"));
  EXPECT_EQ(compare_with_oracle(oracle, records).size(), 1u);
}

// Two force deletes of one terminating pod wrote one grace-period update
// between them, whichever of their lines the log has first.
TEST(audit_oracle_test, two_force_deletes_wrote_one_update) {
  auto raced = line("delete", "", pod_answer("", terminating_with_grace_0));
  auto won = line("delete", "", pod_answer("13", terminating_with_grace_0));
  auto graceful
    = line("delete", "", pod_answer("11", terminating_with_grace_1));
  EXPECT_EQ(oracle_of({graceful, raced, won}).delete_updates[pod].size(), 1u);
  EXPECT_EQ(oracle_of({graceful, won, raced}).delete_updates[pod].size(), 1u);
}

// A pod force-deleted before any graceful delete still gets its update;
// one deleted gracefully to the end (grace period already 0) does not.
TEST(audit_oracle_test, a_force_delete_counts_an_update_unless_grace_was_0) {
  auto force = line("delete", "", pod_answer("13", terminating_with_grace_0));
  EXPECT_EQ(oracle_of({force}).delete_updates[pod].size(), 1u);
  auto already_0 = line(
    "update", "",
    pod_answer("12", terminating_with_grace_0 + R"(,"finalizers":["f"])"));
  EXPECT_EQ(oracle_of({already_0, force}).delete_updates[pod].size(), 0u);
}
