#include "bench/workload.hpp"

#include "bench/pod_fields.hpp"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace kws::bench {

namespace {

constexpr std::array<kind_info, num_kinds> kind_table{{
  {"", "v1", "Pod", "pods", 45},
  {"apps", "v1", "Deployment", "deployments", 10},
  {"apps", "v1", "ReplicaSet", "replicasets", 10},
  {"", "v1", "ConfigMap", "configmaps", 10},
  {"", "v1", "Event", "events", 25},
}};

/// Shares of the live objects each kind settles around (of 9,000 by
/// default).
constexpr std::array<size_t, num_kinds> population_share{
  {4000, 400, 800, 800, 3000}};

constexpr std::array<const char*, 6> reasons{
  {"Scheduled", "Pulling", "Pulled", "Created", "Started", "BackOff"}};

} // namespace

const kind_info& info(kind k) {
  return kind_table[static_cast<size_t>(k)];
}

workload::workload(uint64_t seed, int64_t start_ns, int64_t step_ns,
                   const std::filesystem::path& templates, size_t live_objects)
    : rng_(seed), seed_(seed), now_ns_(start_ns), step_ns_(step_ns) {
  size_t total = 0;
  for (auto x : population_share)
    total += x;
  for (size_t k = 0; k < num_kinds; ++k)
    population_[k]
      = std::max<size_t>(1, population_share[k] * live_objects / total);
  load_templates(templates);
}

std::string workload::namespace_name(unsigned i) {
  return "team-" + std::to_string(i);
}

std::string workload::object_name(kind k, const object& o) const {
  auto app = apps[o.id % apps.size()];
  char buf[96];
  switch (k) {
    case kind::pod:
      std::snprintf(buf, sizeof buf, "%s-%06" PRIx64 "-%05" PRIu64, app,
                    (o.id * 2654435761u) & 0xffffff, o.id % 100000);
      break;
    case kind::deployment:
      std::snprintf(buf, sizeof buf, "%s-%" PRIu64, app, o.id);
      break;
    case kind::replicaset:
      std::snprintf(buf, sizeof buf, "%s-%" PRIu64 "-%08" PRIx64, app, o.id / 2,
                    (o.id * 40503u) & 0xffffffff);
      break;
    case kind::configmap:
      std::snprintf(buf, sizeof buf, "%s-config-%" PRIu64, app, o.id);
      break;
    case kind::event:
      std::snprintf(buf, sizeof buf, "%s.%016" PRIx64, app,
                    o.id * 7919 + seed_);
      break;
  }
  return buf;
}

std::string workload::uid_of(kind k, const object& o) const {
  uint64_t a = (seed_ * 0x9e3779b97f4a7c15ull) ^ (o.id * 0xbf58476d1ce4e5b9ull)
    ^ static_cast<uint64_t>(k);
  uint64_t b = a * 0x94d049bb133111ebull + o.id;
  char buf[40];
  std::snprintf(
    buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012" PRIx64,
    static_cast<unsigned>(a >> 32), static_cast<unsigned>(a & 0xffff),
    static_cast<unsigned>((a >> 16) & 0xfff), static_cast<unsigned>(b & 0xfff),
    static_cast<uint64_t>((b >> 16) & 0xffffffffffffu));
  return buf;
}

std::string workload::timestamp(int64_t ns) const {
  auto secs = static_cast<time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

using rapidjson::Pointer;
using rapidjson::Value;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read template " + p.string());
  return {std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

void workload::load_templates(const std::filesystem::path& dir) {
  const char* stems[num_kinds]
    = {"pod", "deployment", "replicaset", "configmap", "event"};
  for (size_t k = 0; k < num_kinds; ++k) {
    std::vector<std::filesystem::path> files;
    for (auto& e : std::filesystem::directory_iterator(dir)) {
      auto name = e.path().filename().string();
      if (e.path().extension() == ".json"
          && (name == std::string{stems[k]} + ".json"
              || name.rfind(std::string{stems[k]} + "-", 0) == 0))
        files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty())
      throw std::runtime_error("no " + std::string{stems[k]} + " template in "
                               + dir.string());
    for (auto& f : files) {
      auto text = read_file(f);
      auto doc = std::make_shared<rapidjson::Document>();
      doc->Parse(text.data(), text.size());
      if (doc->HasParseError() || !doc->IsObject())
        throw std::runtime_error("template is not a JSON object: "
                                 + f.string());
      templates_[k].emplace_back(std::move(doc));
    }
  }
}

void workload::render(std::string& out, kind k, const object& o,
                      const char* type, generated_event& ev) {
  auto ki = static_cast<size_t>(k);
  auto& tpl = *templates_[ki][o.id % templates_[ki].size()];
  rapidjson::Document doc;
  doc.CopyFrom(tpl, doc.GetAllocator());
  auto app = std::string{apps[o.id % apps.size()]};
  auto ns = namespace_name(o.ns);
  auto name = object_name(k, o);
  auto now = timestamp(now_ns_);
  auto created
    = timestamp(now_ns_ - static_cast<int64_t>(o.generation) * 60'000'000'000);
  set(doc, "/metadata/name", name);
  set(doc, "/metadata/namespace", ns);
  set(doc, "/metadata/uid", uid_of(k, o));
  set(doc, "/metadata/resourceVersion", std::to_string(resource_version_));
  set(doc, "/metadata/creationTimestamp", created);
  set(doc, "/metadata/generation", o.generation);
  set(doc, "/metadata/labels/app", app);
  set(doc, "/metadata/annotations/kws.test~1rev", std::to_string(o.generation));
  set_in_each(doc, "/metadata/managedFields", "time", now);
  auto owner = app + "-" + std::to_string(o.id / 4);
  set(doc, "/metadata/ownerReferences/0/name", owner);
  set(doc, "/metadata/ownerReferences/0/uid",
      uid_of(k == kind::pod ? kind::replicaset : kind::deployment, o));
  switch (k) {
    case kind::pod:
      vary_pod(doc, o.id, o.generation, owner, now, created, rng_);
      break;
    case kind::deployment:
    case kind::replicaset: {
      auto replicas = o.id % 5 + 1;
      set(doc, "/spec/replicas", replicas);
      set(doc, "/status/replicas", replicas);
      set(doc, "/status/readyReplicas", replicas);
      set(doc, "/status/availableReplicas", replicas);
      set(doc, "/status/updatedReplicas", replicas);
      set(doc, "/status/fullyLabeledReplicas", replicas);
      set(doc, "/status/observedGeneration", o.generation);
      set(doc, "/spec/selector/matchLabels/app", app);
      set(doc, "/spec/template/metadata/labels/app", app);
      set(doc, "/spec/template/spec/containers/0/image",
          images[o.id % images.size()]);
      set(doc, "/status/conditions/0/lastUpdateTime", now);
      set(doc, "/status/conditions/1/lastUpdateTime", now);
      break;
    }
    case kind::configmap: {
      if (auto* data = Pointer("/data").Get(doc);
          data != nullptr && data->IsObject())
        for (auto& m : data->GetObject()) {
          auto v = std::to_string(rng_() % 100000);
          m.value.SetString(v.data(),
                            static_cast<rapidjson::SizeType>(v.size()),
                            doc.GetAllocator());
        }
      break;
    }
    case kind::event: {
      auto [pod_ns, pod] = pick_object(kind::pod, rng_);
      if (pod.empty())
        pod = "unknown";
      ev.link_resource = "pods";
      ev.link_name = pod;
      auto reason = std::string{reasons[rng_() % reasons.size()]};
      // Events live in the namespace of the object they are about.
      if (!pod_ns.empty())
        set(doc, "/metadata/namespace", pod_ns);
      set(doc, "/involvedObject/namespace", pod_ns.empty() ? ns : pod_ns);
      set(doc, "/involvedObject/name", pod);
      set(doc, "/involvedObject/uid", uid_of(kind::pod, o));
      set(doc, "/involvedObject/resourceVersion",
          std::to_string(resource_version_ - 1));
      set(doc, "/reason", reason);
      set(doc, "/message", reason + " container work in pod " + pod);
      set(doc, "/eventTime", now);
      set(doc, "/reportingInstance", "node-" + std::to_string(o.id % 7));
      break;
    }
  }
  // The apiserver's framing: {"type":"X","object":{...}} and a newline.
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  doc.Accept(w);
  out += R"({"type":")";
  out += type;
  out += R"(","object":)";
  out.append(buf.GetString(), buf.GetSize());
  out += "}\n";
}

std::pair<std::string, std::string>
workload::pick_object(kind k, std::mt19937_64& rng) const {
  auto& ns = namespace_of_[static_cast<size_t>(k)];
  if (ns.empty())
    return {};
  object o;
  o.id = rng() % ns.size();
  o.ns = ns[o.id];
  return {namespace_name(o.ns), object_name(k, o)};
}

workload::object& workload::create(size_t ki) {
  auto& recent = recent_[ki];
  if (recent.size() == recent_window(ki))
    recent.pop_front();
  auto ns = static_cast<unsigned>(rng_() % num_namespaces);
  auto id = namespace_of_[ki].size();
  namespace_of_[ki].push_back(static_cast<uint8_t>(ns));
  return recent.emplace_back(object{ns, id, 1, true});
}

generated_event workload::next(std::string& out) {
  now_ns_ += step_ns_;
  ++resource_version_;
  // Choose the kind by share.
  auto roll = static_cast<unsigned>(rng_() % 100);
  size_t ki = 0;
  for (unsigned acc = 0; ki < num_kinds; ++ki) {
    acc += kind_table[ki].share;
    if (roll < acc)
      break;
  }
  auto k = static_cast<kind>(ki);
  auto& recent = recent_[ki];
  auto created = namespace_of_[ki].size();
  // Live objects sit among the newest only loosely; pick a random live one
  // by probing (deleted objects are rare).
  auto pick_live = [&]() -> object* {
    for (int tries = 0; tries < 16 && created > 0; ++tries) {
      auto back = rng_() % std::min(created, recent_window(ki));
      auto& o = recent[recent.size() - 1 - back];
      if (o.live)
        return &o;
    }
    return nullptr;
  };
  const char* type = "MODIFIED";
  object* target = nullptr;
  // Until a kind reaches its population every event creates an object.
  auto filling = created < population_[ki];
  auto action = rng_() % 100;
  if (filling || action < (k == kind::event ? 70u : 8u)) {
    target = &create(ki);
    type = "ADDED";
  } else if (action < (k == kind::event ? 75u : 16u)) {
    target = pick_live();
    if (target) {
      type = "DELETED";
      target->live = false;
    }
  } else {
    target = pick_live();
    if (target)
      ++target->generation;
  }
  if (!target) { // nothing live found: create instead
    target = &create(ki);
    type = "ADDED";
  }
  generated_event ev;
  ev.k = k;
  ev.ns = namespace_name(target->ns);
  ev.name = object_name(k, *target);
  render(out, k, *target, type, ev);
  return ev;
}

} // namespace kws::bench
