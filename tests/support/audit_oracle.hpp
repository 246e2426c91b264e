// What the apiserver's audit log says happened to the objects of some
// namespaces: the oracle the service's records are checked against. Needs a
// cluster whose audit level is RequestResponse (tests/cluster/README.md), so
// that every write carries the object it produced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace kws::test {

/// One object: plural resource, namespace ("" for cluster-scoped), name.
struct object_key {
  std::string resource;
  std::string ns;
  std::string name;

  // clang-tidy 14 reports the literal 0 of the synthesized comparison.
  auto operator<=>(
    const object_key&) const = default; // NOLINT(modernize-use-nullptr)
};

/// When an audited write happened, in nanoseconds since the epoch (UTC): the
/// apiserver received the request at `received` and answered at `completed`;
/// the change itself lies in between.
struct write_time {
  int64_t received = 0;
  int64_t completed = 0;
};

/// The successful writes to watched resource types in namespaces named
/// `<prefix>-...` (and to those namespaces themselves), read incrementally
/// from a JSON-lines audit log.
class audit_oracle {
public:
  audit_oracle(std::string path, std::string prefix,
               std::set<std::string> resources);

  /// Reads the lines appended since the last call.
  void update();

  /// Every resourceVersion a write left an object at (creates, updates,
  /// patches, status and scale subresources, deletes that answer with the
  /// object), with the first write that left it. Each must be recorded
  /// exactly once.
  std::map<object_key, std::map<std::string, write_time>> versions;

  /// Uids deleted by requests that answer with a Status or a list of the
  /// objects as they were before (delete, deletecollection), with the
  /// delete: the deleting resourceVersion is not in the log, so each needs
  /// exactly one delete record of that uid.
  std::map<object_key, std::map<std::string, write_time>> deleted_uids;

  /// Successful pods/binding writes per pod: they change the pod, but their
  /// answer is a Status without a resourceVersion.
  std::map<object_key, std::vector<write_time>> bindings;

  /// Pod deletes that end with grace period 0 (force deletes, terminal
  /// pods): unless the pod already had grace period 0, the apiserver first
  /// writes the deletionTimestamp with it (an update no audit line carries),
  /// then deletes.
  std::map<object_key, std::vector<write_time>> delete_updates;

  /// Namespaces in scope that saw a write.
  std::set<std::string> namespaces;

  /// Writes in scope read so far.
  size_t num_writes = 0;

  /// When each of them completed (`write_time::completed`), in log order:
  /// the rate of writes over any window.
  std::vector<int64_t> completion_times;

  /// Lines in scope that the oracle cannot use (no responseObject, ...).
  std::vector<std::string> problems;

private:
  void parse_line(const std::string& line);

  /// Counts the update a pod delete that ended with grace period 0 wrote
  /// first, unless the pod already had grace period 0.
  void note_grace_zero_delete(const object_key& key,
                              bool grace_zero_without_finalizers,
                              const write_time& when);

  /// deletionGracePeriodSeconds of the latest answer per object, while
  /// terminating.
  std::map<object_key, int64_t> grace_;

  std::string path_;
  std::string prefix_;
  std::set<std::string> resources_;
  uint64_t offset_ = 0;
};

/// One record of the service, reduced to what the oracle checks.
struct record_digest {
  /// The record's `id`.
  std::string id;
  object_key key;
  std::string verb;
  std::string uid;
  std::string resource_version;
  bool final_state_unknown = false;
};

/// Whether a difference about a write of `key` at `when` is acceptable
/// (e.g. the write lies in a coverage gap the service reported).
using excuse_fn
  = std::function<bool(const object_key& key, const write_time& when)>;

/// The differences between the service's records and the oracle.
struct oracle_comparison {
  /// One sentence per difference that is not excused.
  std::vector<std::string> differences;
  /// Versions and deletes never recorded (not excused).
  size_t missing = 0;
  /// Versions and deletes recorded more than once (not excused).
  size_t duplicates = 0;
  /// Records no write explains (never excused).
  size_t unexplained = 0;
  /// Missing or duplicate versions and deletes that were excused.
  size_t excused = 0;
};

/// Compares the service's records with the oracle: a version missing or
/// recorded twice, a record no write explains, a deleted uid without exactly
/// one delete record. A missing or duplicate version or delete whose write
/// `excused` accepts is only counted; a record no write explains never is.
oracle_comparison compare_in_detail(const audit_oracle& oracle,
                                    const std::vector<record_digest>& records,
                                    const excuse_fn& excused = {});

/// The differences of `compare_in_detail` without excuses, one sentence
/// each.
std::vector<std::string>
compare_with_oracle(const audit_oracle& oracle,
                    const std::vector<record_digest>& records);

} // namespace kws::test
