// The watch line's single pass and the record builder together: a record
// built from the pass's facts is the record a parse of the object builds,
// for plain objects and for every oddity that must fall back to the parse.
#include "actors/watcher.hpp"
#include "kube/wire.hpp"
#include "storage/record_builder.hpp"

#include <caf/deep_to_string.hpp>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <random>
#include <string>
#include <vector>

namespace kws {
namespace {

const resource_type pods{"", "v1", "Pod", "pods", true};
const resource_type secrets{"", "v1", "Secret", "secrets", true};
const resource_type core_events{"", "v1", "Event", "events", true};

const std::string plain_pod
  = R"({"apiVersion":"v1","kind":"Pod",)"
    R"("metadata":{"name":"web-1","namespace":"team-a","uid":"u-1",)"
    R"("resourceVersion":"42","creationTimestamp":"2026-01-02T03:04:05Z",)"
    R"("labels":{"app":"web"},"managedFields":[)"
    R"({"manager":"kubectl","operation":"Update","time":"2026-01-02T03:04:05Z",)"
    R"("fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{}}}},)"
    R"({"manager":"kubelet","operation":"Update","time":"2026-01-02T03:05:00Z",)"
    R"("subresource":"status","fieldsV1":{"f:status":{}}}]},)"
    R"("spec":{"containers":[{"name":"app","image":"web:1"}]},)"
    R"("status":{"phase":"Running","podIP":"10.0.0.1"}})";

std::string line_of(const char* type, const std::string& object) {
  return std::string{R"({"type":")"} + type + R"(","object":)" + object + "}";
}

/// How a watch line's object was built.
enum class path { not_a_watch_line, parsed, fast };

/// Builds the record of `object` both ways and expects the same result.
/// Returns whether the pass's facts were complete (the fast path).
path same_both_ways(const resource_type& rt, const std::string& object,
                    bool from_initial_list = false) {
  auto line = kube::scan_watch_line(line_of("MODIFIED", object));
  if (!line)
    return path::not_a_watch_line;
  const auto& ev = line->event;
  for (auto v : {verb::create, verb::update, verb::remove}) {
    storage::record_options opts;
    opts.copy_object_text = true;
    opts.from_initial_list = from_initial_list;
    auto parsed = storage::build_record(rt, v, ev.object, 7, opts);
    opts.facts = &ev.facts;
    auto fast = storage::build_record(rt, v, ev.object, 7, opts);
    EXPECT_EQ(static_cast<bool>(parsed), static_cast<bool>(fast)) << object;
    if (parsed && fast) {
      EXPECT_EQ(caf::deep_to_string(*parsed), caf::deep_to_string(*fast))
        << object;
    } else if (!parsed && !fast) {
      EXPECT_EQ(caf::to_string(parsed.error()), caf::to_string(fast.error()));
    }
  }
  return ev.facts.complete ? path::fast : path::parsed;
}

TEST(record_facts_test, a_plain_object_needs_no_parse_and_gives_its_record) {
  EXPECT_EQ(same_both_ways(pods, plain_pod), path::fast);
  EXPECT_EQ(same_both_ways(pods, plain_pod, true), path::fast);
  auto line = kube::scan_watch_line(line_of("ADDED", plain_pod));
  ASSERT_TRUE(line);
  const auto& f = line->event.facts;
  EXPECT_EQ(f.api_version, "v1");
  EXPECT_EQ(f.kind, "Pod");
  EXPECT_EQ(f.name, "web-1");
  EXPECT_EQ(f.ns, "team-a");
  EXPECT_EQ(f.uid, "u-1");
  EXPECT_EQ(f.resource_version, "42");
  EXPECT_EQ(f.creation_timestamp, "2026-01-02T03:04:05Z");
  EXPECT_TRUE(f.has_managed_fields);
  ASSERT_EQ(f.managers.size(), 2u);
  EXPECT_EQ(f.managers[1].manager, "kubelet");
  EXPECT_EQ(f.managers[1].time, "2026-01-02T03:05:00Z");
}

TEST(record_facts_test, plain_variants_agree_and_take_the_fast_path) {
  const std::vector<std::string> plain{
    // No managedFields; managedFields first, last or alone in metadata.
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"resourceVersion":"9","name":"a","uid":"u"}})",
    R"({"metadata":{"resourceVersion":"9","managedFields":[{"manager":"m"}],"name":"a"}})",
    R"({"metadata":{"resourceVersion":"9","name":"a","managedFields":[]}})",
    // Equal times (the later entry wins), a bad time, an empty manager.
    R"({"metadata":{"resourceVersion":"9","name":"a","managedFields":[{"manager":"x","time":"2026-01-02T03:04:05Z"},{"manager":"y","time":"2026-01-02T03:04:05Z"}]}})",
    R"({"metadata":{"resourceVersion":"9","name":"a","managedFields":[{"manager":"x","time":"soon"},{"manager":"","time":"2026-01-02T03:04:05Z"}]}})",
    // Space around managedFields: cut where a scan finds it.
    R"({"metadata":{"resourceVersion":"9","name":"a", "managedFields" : [ {"manager":"m"} ] ,"uid":"u"}})",
    R"({"metadata":{"resourceVersion":"9","name":"a" , "managedFields":[]}})",
    // Escapes in names, kind and apiVersion missing.
    R"({"metadata":{"resourceVersion":"9","name":"a\"b\u00e9","namespace":"n\/s"}})",
    // A second `name` deeper down does not count as metadata's.
    R"({"metadata":{"resourceVersion":"9","name":"a","labels":{"name":"b","uid":"c"}},"spec":{"metadata":{"resourceVersion":"9","name":"z"}}})",
  };
  for (const auto& object : plain)
    EXPECT_EQ(same_both_ways(pods, object), path::fast) << object;
}

TEST(record_facts_test, odd_objects_fall_back_to_the_parse) {
  std::string deep
    = R"({"metadata":{"resourceVersion":"9","name":"a"},"spec":)";
  for (int i = 0; i < 600; ++i)
    deep += "[";
  for (int i = 0; i < 600; ++i)
    deep += "]";
  deep += "}";
  const std::vector<std::string> odd{
    R"({"metadata":{"resourceVersion":"9","name":"a","name":"b"}})",
    R"({"metadata":{"resourceVersion":"9","name":7}})",
    R"({"metadata":{"resourceVersion":"9","name":"a","uid":null}})",
    R"({"metadata":{"resourceVersion":"9","name":"a"},"metadata":{"resourceVersion":"9","name":"b"}})",
    R"({"kind":["Pod"],"metadata":{"resourceVersion":"9","name":"a"}})",
    R"({"metadata":{"resourceVersion":"9","name":"a","managedFields":null}})",
    R"({"metadata":{"resourceVersion":"9","name":"a","managedFields":["x"]}})",
    R"({"metadata":{"resourceVersion":"9","name":"a","managedFields":[{"manager":1}]}})",
    R"({"metadata":{"resourceVersion":"9","name":"a","managedFields":[{"manager":"m","manager":"n"}]}})",
    deep,
  };
  for (const auto& object : odd)
    EXPECT_EQ(same_both_ways(pods, object), path::parsed) << object;
  // Plain, but without a name to report: the parse gives the error.
  for (const char* nameless :
       {R"({"metadata":{"resourceVersion":"9","name":""}})",
        R"({"metadata":{"resourceVersion":"9"}})"})
    EXPECT_EQ(same_both_ways(pods, nameless), path::fast) << nameless;
}

TEST(record_facts_test, secrets_and_events_are_parsed_with_the_same_result) {
  const std::string secret
    = R"({"apiVersion":"v1","kind":"Secret","metadata":{"resourceVersion":"9","name":"s",)"
      R"("managedFields":[{"manager":"m"}]},"data":{"k":"dg=="}})";
  const std::string event
    = R"({"metadata":{"resourceVersion":"9","name":"e","namespace":"a"},"message":"m",)"
      R"("involvedObject":{"kind":"Pod","name":"p","uid":"u"}})";
  // The facts are complete, yet the builder parses: a Secret's values are
  // digested and an Event's fields lifted.
  EXPECT_EQ(same_both_ways(secrets, secret), path::fast);
  EXPECT_EQ(same_both_ways(core_events, event), path::fast);
  auto line = kube::scan_watch_line(line_of("ADDED", secret));
  ASSERT_TRUE(line);
  storage::record_options opts;
  opts.copy_object_text = true;
  opts.facts = &line->event.facts;
  auto rec
    = storage::build_record(secrets, verb::create, line->event.object, 7, opts);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->record.find("dg=="), std::string::npos);
}

// Random objects around the fields the pass reads: each field present or
// not, a string or another type, once or twice; managedFields of random
// entries. Both ways must agree on every one.
TEST(record_facts_test, random_objects_agree) {
  std::mt19937 rng{20261205};
  const std::vector<std::string> strings{
    "", "a", "x\\\"y", "2026-01-02T03:04:05Z", "2026-01-02T03:04:06Z", "bad"};
  const std::vector<std::string> others{"1", "null", "true", "{}", "[]"};
  auto value = [&] {
    return rng() % 20 == 0 ? others[rng() % others.size()]
                           : "\"" + strings[rng() % strings.size()] + "\"";
  };
  auto members = [&](const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) {
      unsigned copies = rng() % 20 == 0 ? 2 : rng() % 5 == 0 ? 0 : 1;
      for (unsigned c = 0; c < copies; ++c)
        out += (out.empty() ? "" : ",") + ("\"" + k + "\":" + value());
    }
    return out;
  };
  size_t complete = 0;
  size_t parsed = 0;
  for (int i = 0; i < 600; ++i) {
    // The watch needs a resourceVersion; the pass reads the first one.
    std::string meta = R"("resourceVersion":"1")";
    if (auto more = members({"name", "namespace", "uid", "creationTimestamp"});
        !more.empty())
      meta += "," + more;
    if (rng() % 4 != 0) {
      std::string entries;
      auto n = rng() % 4;
      for (unsigned e = 0; e < n; ++e)
        entries += (e > 0 ? "," : "")
          + (rng() % 20 == 0 ? std::string{"7"}
                             : "{" + members({"manager", "time"}) + "}");
      meta += ",\"managedFields\":[" + entries + "]";
    }
    std::string top = members({"apiVersion", "kind"});
    std::string object = "{" + top + (top.empty() ? "" : ",") + "\"metadata\":{"
      + meta + "},\"spec\":{\"x\":[1,2]}}";
    auto how = same_both_ways(pods, object, i % 3 == 0);
    complete += how == path::fast ? 1 : 0;
    parsed += how == path::parsed ? 1 : 0;
  }
  // Both paths were exercised.
  EXPECT_GT(complete, 50u);
  EXPECT_GT(parsed, 50u);
}

} // namespace
} // namespace kws
