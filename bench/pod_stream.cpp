#include "bench/pod_stream.hpp"

#include "bench/pod_fields.hpp"

#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace kws::bench {

namespace {

constexpr unsigned num_namespaces = 20;

struct pod {
  unsigned ns = 0;
  uint64_t id = 0;
  uint64_t generation = 1;
  bool live = true;
};

std::string timestamp(int64_t secs) {
  auto t = static_cast<time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string uid_of(uint64_t seed, uint64_t id) {
  uint64_t a = (seed * 0x9e3779b97f4a7c15ull) ^ (id * 0xbf58476d1ce4e5b9ull);
  uint64_t b = a * 0x94d049bb133111ebull + id;
  char buf[40];
  std::snprintf(
    buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012" PRIx64,
    static_cast<unsigned>(a >> 32), static_cast<unsigned>(a & 0xffff),
    static_cast<unsigned>((a >> 16) & 0xfff), static_cast<unsigned>(b & 0xfff),
    static_cast<uint64_t>((b >> 16) & 0xffffffffffffu));
  return buf;
}

/// Renders one Pod as compact JSON from the template.
class renderer {
public:
  renderer(const std::filesystem::path& templates, uint64_t seed)
      : seed_{seed}, rng_{seed} {
    auto path = templates / "pod.json";
    std::ifstream in{path, std::ios::binary};
    if (!in)
      throw std::runtime_error("cannot read template " + path.string());
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    tpl_.Parse(text.data(), text.size());
    if (tpl_.HasParseError() || !tpl_.IsObject())
      throw std::runtime_error("template is not a JSON object: "
                               + path.string());
    now_s_ = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  }

  std::string render(const pod& p, uint64_t rv) {
    rapidjson::Document doc;
    doc.CopyFrom(tpl_, doc.GetAllocator());
    auto app = std::string{apps[p.id % apps.size()]};
    char name[64];
    std::snprintf(name, sizeof name, "%s-%06" PRIx64 "-%05" PRIu64, app.c_str(),
                  (p.id * 2654435761u) & 0xffffff, p.id % 100000);
    auto now = timestamp(now_s_);
    auto created = timestamp(now_s_ - static_cast<int64_t>(p.generation) * 60);
    auto owner = app + "-" + std::to_string(p.id / 4);
    set(doc, "/metadata/name", name);
    set(doc, "/metadata/namespace", "team-" + std::to_string(p.ns));
    set(doc, "/metadata/uid", uid_of(seed_, p.id));
    set(doc, "/metadata/resourceVersion", std::to_string(rv));
    set(doc, "/metadata/creationTimestamp", created);
    set(doc, "/metadata/generation", p.generation);
    set(doc, "/metadata/labels/app", app);
    set(doc, "/metadata/annotations/kws.test~1rev",
        std::to_string(p.generation));
    set(doc, "/metadata/ownerReferences/0/name", owner);
    set(doc, "/metadata/ownerReferences/0/uid", uid_of(seed_ + 1, p.id / 4));
    set_in_each(doc, "/metadata/managedFields", "time", now);
    vary_pod(doc, p.id, p.generation, owner, now, created, rng_);
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    doc.Accept(w);
    return {buf.GetString(), buf.GetSize()};
  }

  std::mt19937_64& rng() { return rng_; }

private:
  rapidjson::Document tpl_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  int64_t now_s_ = 0;
};

} // namespace

pod_stream make_pod_stream(const std::filesystem::path& templates,
                           uint64_t seed, size_t list_pods, size_t events) {
  renderer r{templates, seed};
  auto& rng = r.rng();
  pod_stream result;
  std::vector<pod> pods;
  uint64_t rv = 1000;
  uint64_t next_id = 0;
  auto create = [&] {
    pods.push_back(
      pod{static_cast<unsigned>(rng() % num_namespaces), next_id++, 1, true});
    return &pods.back();
  };
  for (size_t i = 0; i < list_pods; ++i)
    result.list_items.push_back(r.render(*create(), ++rv));
  result.list_rv = rv;
  // The population the events churn around: creates until it is reached,
  // then mostly updates, with deletes and creates balancing each other.
  auto population = std::max<size_t>(list_pods, 200);
  size_t live = list_pods;
  auto pick_live = [&]() -> pod* {
    for (int tries = 0; tries < 32 && !pods.empty(); ++tries) {
      auto& p
        = pods[pods.size() - 1 - rng() % std::min(pods.size(), population * 2)];
      if (p.live)
        return &p;
    }
    return nullptr;
  };
  result.lines.reserve(events);
  for (size_t i = 0; i < events; ++i) {
    const char* type = "MODIFIED";
    pod* target = nullptr;
    auto roll = rng() % 100;
    if (live >= population && roll < 10) {
      target = pick_live();
      if (target) {
        type = "DELETED";
        target->live = false;
        --live;
      }
    } else if (live >= population && roll >= 20) {
      target = pick_live();
      if (target)
        ++target->generation;
    }
    if (target == nullptr) {
      target = create();
      type = "ADDED";
      ++live;
    }
    // The apiserver's framing: one JSON document and a newline per event.
    std::string line = R"({"type":")";
    line += type;
    line += R"(","object":)";
    line += r.render(*target, ++rv);
    line += "}\n";
    result.lines.push_back(std::move(line));
  }
  return result;
}

} // namespace kws::bench
