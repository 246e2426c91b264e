// Seeded generator of realistic watch traffic: Pods, Deployments,
// ReplicaSets, ConfigMaps and Events, emitted as the bytes of watch-stream
// lines. Every object is a copy of an object captured from a real control
// plane (bench/templates/) with its identity, times and status varied, so
// field shapes and sizes are the real ones. Pure: the same seed and
// templates give the same bytes.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace kws::bench {

/// The five watched kinds, in `kinds()` order.
enum class kind : uint8_t { pod, deployment, replicaset, configmap, event };

inline constexpr size_t num_kinds = 5;

/// Static description of one kind.
struct kind_info {
  const char* group;
  const char* version;
  const char* kind;
  const char* plural;
  /// Share of generated events, in percent.
  unsigned share;
};

const kind_info& info(kind k);

/// One generated watch event.
struct generated_event {
  kind k = kind::pod;
  /// Namespace and name of the object.
  std::string ns;
  std::string name;
  /// For Events: the plural and name of the object it is about.
  std::string link_resource;
  std::string link_name;
};

/// Emits watch events. Objects live in `num_namespaces` namespaces; each
/// kind keeps a population of live objects that are created, updated
/// (most events) and deleted.
class workload {
public:
  /// @param templates directory of captured objects: `pod.json`,
  ///        `pod-*.json`, `deployment*.json`, ... (at least one per kind).
  /// @param live_objects how many live objects all kinds settle around.
  /// Throws `std::runtime_error` when a kind has no readable template.
  workload(uint64_t seed, int64_t start_ns, int64_t step_ns,
           const std::filesystem::path& templates, size_t live_objects = 9000);

  /// Appends one watch line (`{"type":..,"object":..}\n`) to `out` and
  /// returns what it is about.
  generated_event next(std::string& out);

  /// The timestamp of the last event (nanoseconds since the epoch).
  int64_t now_ns() const { return now_ns_; }

  /// A live or once-live object of kind `k`, chosen at random: (ns, name).
  std::pair<std::string, std::string> pick_object(kind k,
                                                  std::mt19937_64& rng) const;

  /// Namespaces used.
  static constexpr unsigned num_namespaces = 20;

  static std::string namespace_name(unsigned i);

private:
  struct object {
    unsigned ns = 0;
    uint64_t id = 0;
    uint64_t generation = 1;
    bool live = false;
  };

  std::string object_name(kind k, const object& o) const;
  std::string uid_of(kind k, const object& o) const;
  void load_templates(const std::filesystem::path& dir);
  void render(std::string& out, kind k, const object& o, const char* type,
              generated_event& ev);
  std::string timestamp(int64_t ns) const;

  /// Live objects per kind once filled.
  size_t population_[num_kinds] = {};
  /// Parsed templates per kind; an object uses `id % size()`. Shared and
  /// never changed, so that a copy of the workload (which continues with the
  /// same events) is cheap.
  std::vector<std::shared_ptr<const rapidjson::Document>> templates_[num_kinds];
  std::mt19937_64 rng_;
  uint64_t seed_;
  int64_t now_ns_;
  int64_t step_ns_;
  uint64_t resource_version_ = 1000;
  /// The namespace of every object a kind ever had, by id (a kind's ids
  /// count from 0): all a query's pick needs. A byte each, because the
  /// bench's peak memory is read as the service's: whole objects of every
  /// Event ever created, in the workload and its copies, held about a
  /// hundred megabytes at 10M events.
  std::vector<uint8_t> namespace_of_[num_kinds];
  /// A kind's newest objects, the only ones an update or a delete picks
  /// (`recent_window`): their ids end at `namespace_of_[k].size()`. An
  /// older object that is still live is never changed again.
  std::deque<object> recent_[num_kinds];

  size_t recent_window(size_t ki) const { return population_[ki] * 2; }
  object& create(size_t ki);
};

} // namespace kws::bench
