#include "tests/support/audit_oracle.hpp"

#include "util/time_format.hpp"

#include <rapidjson/document.h>

#include <fstream>

namespace kws::test {

namespace {

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject())
    return {};
  auto i = v.FindMember(key);
  if (i == v.MemberEnd() || !i->value.IsString())
    return {};
  return i->value.GetString();
}

const rapidjson::Value* member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject())
    return nullptr;
  auto i = v.FindMember(key);
  return i == v.MemberEnd() ? nullptr : &i->value;
}

/// The RFC 3339 time at `key` in nanoseconds; 0 when absent or unparsable
/// (no excuse can then cover the write).
int64_t time_of(const rapidjson::Value& v, const char* key) {
  auto t = parse_rfc3339(str(v, key));
  return t ? *t : 0;
}

} // namespace

audit_oracle::audit_oracle(std::string path, std::string prefix,
                           std::set<std::string> resources)
    : path_{std::move(path)}, prefix_{std::move(prefix) + "-"},
      resources_{std::move(resources)} {}

void audit_oracle::update() {
  std::ifstream in{path_, std::ios::binary};
  if (!in)
    return;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string line;
  // Only complete lines: the apiserver may be writing the last one.
  while (std::getline(in, line)) {
    if (in.eof())
      break;
    offset_ += line.size() + 1;
    parse_line(line);
  }
}

void audit_oracle::parse_line(const std::string& line) {
  // Cheap rejection first: most lines are about other namespaces.
  if (line.find(prefix_) == std::string::npos)
    return;
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  if (doc.HasParseError() || !doc.IsObject()) {
    problems.push_back("unparsable audit line: " + line.substr(0, 200));
    return;
  }
  auto verb = str(doc, "verb");
  if (verb != "create" && verb != "update" && verb != "patch"
      && verb != "delete" && verb != "deletecollection")
    return;
  auto* status = member(doc, "responseStatus");
  auto* code = status ? member(*status, "code") : nullptr;
  if (!code || !code->IsInt() || code->GetInt() < 200 || code->GetInt() >= 300)
    return;
  auto* ref = member(doc, "objectRef");
  if (!ref)
    return;
  auto resource = str(*ref, "resource");
  if (!resources_.contains(resource))
    return;
  auto subresource = str(*ref, "subresource");
  auto* response = member(doc, "responseObject");
  auto* meta = response ? member(*response, "metadata") : nullptr;
  object_key key{resource, str(*ref, "namespace"), str(*ref, "name")};
  if (resource == "namespaces") {
    // The apiserver puts a namespace's own name into objectRef.namespace.
    key.ns.clear();
    if (key.name.empty() && meta)
      key.name = str(*meta, "name");
    if (key.name.rfind(prefix_, 0) != 0)
      return;
  } else if (key.ns.rfind(prefix_, 0) != 0) {
    return;
  }
  write_time when{time_of(doc, "requestReceivedTimestamp"),
                  time_of(doc, "stageTimestamp")};
  ++num_writes;
  completion_times.push_back(when.completed);
  namespaces.insert(resource == "namespaces" ? key.name : key.ns);
  if (subresource == "binding") {
    bindings[key].push_back(when);
    return;
  }
  if (!response || !response->IsObject()) {
    problems.push_back("no responseObject (audit level below "
                       "RequestResponse?): "
                       + str(doc, "auditID"));
    return;
  }
  auto kind = str(*response, "kind");
  if (kind == "Status") {
    auto* details = member(*response, "details");
    auto uid = details ? str(*details, "uid") : std::string{};
    if (verb != "delete" || uid.empty()) {
      problems.push_back("a " + verb + " answered with a Status without uid: "
                         + str(doc, "auditID"));
      return;
    }
    if (key.name.empty())
      key.name = str(*details, "name");
    deleted_uids[key].emplace(uid, when);
    return;
  }
  if (verb == "deletecollection") {
    // The answer lists the objects as they were before the delete.
    auto* items = member(*response, "items");
    if (!items || !items->IsArray())
      return;
    for (auto& item : items->GetArray()) {
      auto* item_meta = member(item, "metadata");
      if (!item_meta)
        continue;
      object_key item_key{resource, key.ns, str(*item_meta, "name")};
      deleted_uids[item_key].emplace(str(*item_meta, "uid"), when);
    }
    return;
  }
  // An update that removes the last finalizer of an object being deleted
  // with grace period 0 deletes it; the answer shows the state before.
  auto* grace = meta ? member(*meta, "deletionGracePeriodSeconds") : nullptr;
  auto* finalizers = meta ? member(*meta, "finalizers") : nullptr;
  bool no_finalizers
    = !finalizers || !finalizers->IsArray() || finalizers->Empty();
  bool grace_zero = grace && grace->IsInt64() && grace->GetInt64() == 0;
  if ((verb == "update" || verb == "patch") && meta
      && member(*meta, "deletionTimestamp") && no_finalizers && grace_zero) {
    if (key.name.empty())
      key.name = str(*meta, "name");
    deleted_uids[key].emplace(str(*meta, "uid"), when);
    return;
  }
  // A grace-0 delete that raced another delete of the same object (the
  // garbage collector and a force delete) answers, when the other one
  // removed the object first, with the object as its own update left it
  // but without a resourceVersion. That update (the grace period set to
  // 0) is still a version no audit line names, and the uid still needs its
  // one delete record.
  if (verb == "delete" && meta && member(*meta, "deletionTimestamp")
      && str(*meta, "resourceVersion").empty() && !str(*meta, "uid").empty()) {
    if (key.name.empty())
      key.name = str(*meta, "name");
    deleted_uids[key].emplace(str(*meta, "uid"), when);
    note_grace_zero_delete(key, grace_zero && no_finalizers, when);
    return;
  }
  if (!meta || str(*meta, "resourceVersion").empty()) {
    problems.push_back("a " + verb + " of " + resource
                       + " answered without a resourceVersion: "
                       + str(doc, "auditID"));
    return;
  }
  // Creates with generateName have no name in objectRef; the answer has it.
  if (key.name.empty())
    key.name = str(*meta, "name");
  // A no-op write answers with the version an earlier one left.
  versions[key].emplace(str(*meta, "resourceVersion"), when);
  if (verb == "delete")
    note_grace_zero_delete(key, grace_zero && no_finalizers, when);
  if (grace && grace->IsInt64())
    grace_[key] = grace->GetInt64();
  else
    grace_.erase(key);
}

void audit_oracle::note_grace_zero_delete(const object_key& key,
                                          bool grace_zero_without_finalizers,
                                          const write_time& when) {
  if (key.resource != "pods" || !grace_zero_without_finalizers)
    return;
  auto i = grace_.find(key);
  if (i == grace_.end() || i->second != 0)
    delete_updates[key].push_back(when);
  grace_[key] = 0;
}

oracle_comparison compare_in_detail(const audit_oracle& oracle,
                                    const std::vector<record_digest>& records,
                                    const excuse_fn& excused) {
  oracle_comparison result;
  auto name_of = [](const object_key& k) {
    return k.resource + " " + (k.ns.empty() ? "" : k.ns + "/") + k.name;
  };
  auto is_excused = [&](const object_key& key, const write_time& when) {
    return excused && excused(key, when);
  };
  auto unexplained = [&](std::string sentence) {
    ++result.unexplained;
    result.differences.push_back(std::move(sentence));
  };
  // A write recorded `n` times where once is right.
  auto count_off = [&](const object_key& key, const write_time& when, int n,
                       std::string sentence) {
    if (is_excused(key, when)) {
      ++result.excused;
      return;
    }
    ++(n == 0 ? result.missing : result.duplicates);
    result.differences.push_back(std::move(sentence));
  };
  // Per object: how often each version was recorded, deletes per uid, and
  // pod updates no write in the log explains (scheduler bindings).
  std::map<object_key, std::map<std::string, int>> seen;
  std::map<object_key, std::map<std::string, int>> deletes;
  std::map<object_key, int> unexplained_pod_updates;
  for (auto& rec : records) {
    if (rec.verb == "delete")
      ++deletes[rec.key][rec.uid];
    if (rec.final_state_unknown) {
      // Inferred by a relist: it carries the last version seen, and is
      // explained only by a delete the log has.
      auto gone = oracle.deleted_uids.find(rec.key);
      if (gone == oracle.deleted_uids.end() || !gone->second.contains(rec.uid))
        unexplained("an inferred delete of " + name_of(rec.key)
                    + " no write explains");
      continue;
    }
    ++seen[rec.key][rec.resource_version];
    auto known = oracle.versions.find(rec.key);
    if (known != oracle.versions.end()
        && known->second.contains(rec.resource_version))
      continue;
    if (rec.verb == "delete") {
      auto gone = oracle.deleted_uids.find(rec.key);
      if (gone == oracle.deleted_uids.end() || !gone->second.contains(rec.uid))
        unexplained("a delete of " + name_of(rec.key) + " at "
                    + rec.resource_version + " no write explains");
      continue;
    }
    if (rec.key.resource == "pods" && rec.verb == "update") {
      ++unexplained_pod_updates[rec.key];
      continue;
    }
    unexplained("a " + rec.verb + " of " + name_of(rec.key) + " at "
                + rec.resource_version + " no write explains");
  }
  for (auto& [key, versions] : oracle.versions) {
    for (auto& [rv, when] : versions) {
      int n = 0;
      if (auto i = seen.find(key); i != seen.end())
        if (auto j = i->second.find(rv); j != i->second.end())
          n = j->second;
      if (n != 1)
        count_off(key, when, n,
                  name_of(key) + " at " + rv + " recorded " + std::to_string(n)
                    + " times");
    }
  }
  for (auto& [key, uids] : oracle.deleted_uids) {
    for (auto& [uid, when] : uids) {
      int n = 0;
      if (auto i = deletes.find(key); i != deletes.end())
        if (auto j = i->second.find(uid); j != i->second.end())
          n = j->second;
      if (n != 1)
        count_off(key, when, n,
                  "the delete of " + name_of(key) + " (uid " + uid
                    + ") recorded " + std::to_string(n) + " times");
    }
  }
  for (auto& [key, per_uid] : deletes) {
    auto gone = oracle.deleted_uids.find(key);
    for (auto& [uid, n] : per_uid) {
      // A uid whose delete the log has is counted above.
      if (n > 1
          && (gone == oracle.deleted_uids.end()
              || !gone->second.contains(uid))) {
        ++result.duplicates;
        result.differences.push_back("uid " + uid + " of " + name_of(key)
                                     + " deleted " + std::to_string(n)
                                     + " times");
      }
    }
  }
  auto writes_of = [](const std::map<object_key, std::vector<write_time>>& m,
                      const object_key& k) {
    auto i = m.find(k);
    return i == m.end() ? std::vector<write_time>{} : i->second;
  };
  std::set<object_key> pods;
  for (auto& [key, n] : oracle.bindings)
    pods.insert(key);
  for (auto& [key, n] : oracle.delete_updates)
    pods.insert(key);
  for (auto& [key, n] : unexplained_pod_updates)
    pods.insert(key);
  for (auto& key : pods) {
    auto b = writes_of(oracle.bindings, key);
    auto g = writes_of(oracle.delete_updates, key);
    auto u = unexplained_pod_updates.contains(key)
      ? static_cast<size_t>(unexplained_pod_updates.at(key))
      : size_t{0};
    auto expected = b.size() + g.size();
    if (expected == u)
      continue;
    // Versions no audit line names are missing: excused when as many of
    // the writes that made them lie where excuses apply.
    size_t excusable = 0;
    for (auto* writes : {&b, &g})
      for (auto& when : *writes)
        excusable += is_excused(key, when) ? 1 : 0;
    if (u < expected && expected - u <= excusable) {
      result.excused += expected - u;
      continue;
    }
    if (u < expected)
      result.missing += expected - u;
    else
      result.unexplained += u - expected;
    result.differences.push_back(name_of(key) + ": " + std::to_string(b.size())
                                 + " bindings and " + std::to_string(g.size())
                                 + " grace-0 deletes but " + std::to_string(u)
                                 + " updates no other write explains");
  }
  return result;
}

std::vector<std::string>
compare_with_oracle(const audit_oracle& oracle,
                    const std::vector<record_digest>& records) {
  return compare_in_detail(oracle, records).differences;
}

} // namespace kws::test
