// What the apiserver's audit log says happened to the objects of some
// namespaces: the oracle the service's records are checked against. Needs a
// cluster whose audit level is RequestResponse (tests/cluster/README.md), so
// that every write carries the object it produced.
#pragma once

#include <cstdint>
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
  /// object). Each must be recorded exactly once.
  std::map<object_key, std::set<std::string>> versions;

  /// Uids deleted by requests that answer with a Status or a list of the
  /// objects as they were before (delete, deletecollection): the deleting
  /// resourceVersion is not in the log, so each needs exactly one delete
  /// record of that uid.
  std::map<object_key, std::set<std::string>> deleted_uids;

  /// Successful pods/binding writes per pod: they change the pod, but their
  /// answer is a Status without a resourceVersion.
  std::map<object_key, int> bindings;

  /// Pod deletes that end with grace period 0 (force deletes, terminal
  /// pods): unless the pod already had grace period 0, the apiserver first
  /// writes the deletionTimestamp with it (an update no audit line carries),
  /// then deletes.
  std::map<object_key, int> delete_updates;

  /// Namespaces in scope that saw a write.
  std::set<std::string> namespaces;

  /// Writes in scope read so far.
  size_t num_writes = 0;

  /// Lines in scope that the oracle cannot use (no responseObject, ...).
  std::vector<std::string> problems;

private:
  void parse_line(const std::string& line);

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
  object_key key;
  std::string verb;
  std::string uid;
  std::string resource_version;
  bool final_state_unknown = false;
};

/// Compares the service's records with the oracle; returns one sentence per
/// difference (a version missing or recorded twice, a record no write
/// explains, a deleted uid without exactly one delete record).
std::vector<std::string>
compare_with_oracle(const audit_oracle& oracle,
                    const std::vector<record_digest>& records);

} // namespace kws::test
