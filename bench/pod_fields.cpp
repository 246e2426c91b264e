#include "bench/pod_fields.hpp"

#include <rapidjson/pointer.h>

#include <cstdio>

namespace kws::bench {

using rapidjson::Pointer;

void set(rapidjson::Document& doc, const char* path, const std::string& x) {
  if (auto* v = Pointer(path).Get(doc))
    v->SetString(x.data(), static_cast<rapidjson::SizeType>(x.size()),
                 doc.GetAllocator());
}

void set(rapidjson::Document& doc, const char* path, uint64_t x) {
  if (auto* v = Pointer(path).Get(doc); v != nullptr && v->IsNumber())
    v->SetUint64(x);
}

void set_in_each(rapidjson::Document& doc, const char* path, const char* member,
                 const std::string& x) {
  auto* array = Pointer(path).Get(doc);
  if (array == nullptr || !array->IsArray())
    return;
  for (auto& entry : array->GetArray())
    if (auto t = entry.FindMember(member);
        t != entry.MemberEnd() && t->value.IsString())
      t->value.SetString(x.data(), static_cast<rapidjson::SizeType>(x.size()),
                         doc.GetAllocator());
}

void vary_pod(rapidjson::Document& doc, uint64_t id, uint64_t generation,
              const std::string& owner, const std::string& now,
              const std::string& created, std::mt19937_64& rng) {
  set(doc, "/metadata/generateName", owner + "-");
  auto ip = "10.244." + std::to_string(id % 250) + "."
    + std::to_string(generation % 250);
  auto host = "172.18.0." + std::to_string(id % 7 + 2);
  set(doc, "/status/podIP", ip);
  set(doc, "/status/podIPs/0/ip", ip);
  set(doc, "/status/hostIP", host);
  set(doc, "/status/hostIPs/0/ip", host);
  set(doc, "/spec/nodeName", "node-" + std::to_string(id % 7));
  set(doc, "/status/startTime", created);
  set(doc, "/status/containerStatuses/0/restartCount", generation / 5);
  char cid[48];
  std::snprintf(cid, sizeof cid, "containerd://%016llx%016llx",
                static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  set(doc, "/status/containerStatuses/0/containerID", cid);
  set(doc, "/status/containerStatuses/0/state/running/startedAt", now);
  set(doc, "/spec/containers/0/image", images[id % images.size()]);
  set(doc, "/status/containerStatuses/0/image", images[id % images.size()]);
  set_in_each(doc, "/status/conditions", "lastTransitionTime", now);
}

} // namespace kws::bench
