#include "tests/support/audit_oracle.hpp"

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
  ++num_writes;
  namespaces.insert(resource == "namespaces" ? key.name : key.ns);
  if (subresource == "binding") {
    ++bindings[key];
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
    deleted_uids[key].insert(uid);
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
      deleted_uids[item_key].insert(str(*item_meta, "uid"));
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
    deleted_uids[key].insert(str(*meta, "uid"));
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
  versions[key].insert(str(*meta, "resourceVersion"));
  if (resource == "pods" && verb == "delete" && grace_zero && no_finalizers) {
    auto i = grace_.find(key);
    if (i == grace_.end() || i->second != 0)
      ++delete_updates[key];
  }
  if (grace && grace->IsInt64())
    grace_[key] = grace->GetInt64();
  else
    grace_.erase(key);
}

std::vector<std::string>
compare_with_oracle(const audit_oracle& oracle,
                    const std::vector<record_digest>& records) {
  std::vector<std::string> result;
  auto name_of = [](const object_key& k) {
    return k.resource + " " + (k.ns.empty() ? "" : k.ns + "/") + k.name;
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
        result.push_back("an inferred delete of " + name_of(rec.key)
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
        result.push_back("a delete of " + name_of(rec.key) + " at "
                         + rec.resource_version + " no write explains");
      continue;
    }
    if (rec.key.resource == "pods" && rec.verb == "update") {
      ++unexplained_pod_updates[rec.key];
      continue;
    }
    result.push_back("a " + rec.verb + " of " + name_of(rec.key) + " at "
                     + rec.resource_version + " no write explains");
  }
  for (auto& [key, versions] : oracle.versions) {
    for (auto& rv : versions) {
      int n = 0;
      if (auto i = seen.find(key); i != seen.end())
        if (auto j = i->second.find(rv); j != i->second.end())
          n = j->second;
      if (n != 1)
        result.push_back(name_of(key) + " at " + rv + " recorded "
                         + std::to_string(n) + " times");
    }
  }
  for (auto& [key, uids] : oracle.deleted_uids) {
    for (auto& uid : uids) {
      int n = 0;
      if (auto i = deletes.find(key); i != deletes.end())
        if (auto j = i->second.find(uid); j != i->second.end())
          n = j->second;
      if (n != 1)
        result.push_back("the delete of " + name_of(key) + " (uid " + uid
                         + ") recorded " + std::to_string(n) + " times");
    }
  }
  for (auto& [key, per_uid] : deletes)
    for (auto& [uid, n] : per_uid)
      if (n > 1)
        result.push_back("uid " + uid + " of " + name_of(key) + " deleted "
                         + std::to_string(n) + " times");
  auto count = [](const std::map<object_key, int>& m, const object_key& k) {
    auto i = m.find(k);
    return i == m.end() ? 0 : i->second;
  };
  std::set<object_key> pods;
  for (auto& [key, n] : oracle.bindings)
    pods.insert(key);
  for (auto& [key, n] : oracle.delete_updates)
    pods.insert(key);
  for (auto& [key, n] : unexplained_pod_updates)
    pods.insert(key);
  for (auto& key : pods) {
    auto b = count(oracle.bindings, key);
    auto g = count(oracle.delete_updates, key);
    auto u = count(unexplained_pod_updates, key);
    if (b + g != u)
      result.push_back(name_of(key) + ": " + std::to_string(b)
                       + " bindings and " + std::to_string(g)
                       + " grace-0 deletes but " + std::to_string(u)
                       + " updates no other write explains");
  }
  return result;
}

} // namespace kws::test
