#include "kube/wire.hpp"

#include "kube/client.hpp"
#include "kube/client_lister_watcher.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

using namespace kws::kube;
using kws::ec;
using kws::watch_event_type;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text.substr(0, 200);
  return doc;
}

} // namespace

TEST(list_page, items_of_a_recorded_page_get_api_version_and_kind) {
  auto page = parse_list_page(test::fixture("list_namespaces_page1.json"));
  ASSERT_TRUE(page) << kws::render(page.error());
  EXPECT_EQ(page->resource_version, "576");
  EXPECT_FALSE(page->continue_token.empty());
  ASSERT_EQ(page->items.size(), 3u);
  for (const auto& item : page->items) {
    auto doc = parse(item);
    EXPECT_STREQ(doc["apiVersion"].GetString(), "v1");
    EXPECT_STREQ(doc["kind"].GetString(), "Namespace");
    EXPECT_TRUE(doc["metadata"]["name"].IsString());
    // apiVersion and kind come first, like the apiserver's own objects.
    EXPECT_EQ(
      item.rfind(R"({"apiVersion":"v1","kind":"Namespace","metadata":)", 0), 0u)
      << item.substr(0, 80);
  }
}

TEST(list_page, explicit_item_kind_wins_and_existing_fields_are_kept) {
  auto body = R"({"kind":"CronTabList","apiVersion":"stable.example.com/v1",
    "metadata":{"resourceVersion":"9"},
    "items":[{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"a"}},
             {"metadata":{"name":"b"},"spec":{"n":12345678901234567,"f":0.1}}]})";
  auto page = parse_list_page(body, "CronTab");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(
    page->items[0],
    R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"a"}})");
  EXPECT_EQ(
    page->items[1],
    R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"b"},"spec":{"n":12345678901234567,"f":0.1}})");
  EXPECT_TRUE(page->continue_token.empty());
}

TEST(list_page, empty_and_null_items) {
  auto empty = parse_list_page(
    R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[]})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->items.empty());
  EXPECT_EQ(empty->resource_version, "5");
  auto null = parse_list_page(
    R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"6"},"items":null})");
  ASSERT_TRUE(null);
  EXPECT_TRUE(null->items.empty());
}

TEST(list_page, malformed_bodies_are_errors) {
  EXPECT_EQ(parse_list_page("{").error(), ec::parse_error);
  EXPECT_EQ(parse_list_page("[]").error(), ec::parse_error);
  EXPECT_EQ(parse_list_page(R"({"kind":"PodList","items":{}})").error(),
            ec::parse_error);
  EXPECT_EQ(parse_list_page(R"({"kind":"PodList","items":[1]})").error(),
            ec::parse_error);
  EXPECT_EQ(parse_list_page(R"({"kind":"Status","code":500})").error(),
            ec::unexpected_status);
}

TEST(watch_line, recorded_events_keep_their_exact_object_bytes) {
  auto text = test::fixture("watch_configmaps.jsonl");
  auto first = text.substr(0, text.find('\n'));
  auto line = parse_watch_line(first);
  ASSERT_TRUE(line);
  EXPECT_FALSE(line->is_error);
  EXPECT_EQ(line->event.type, watch_event_type::added);
  auto prefix = std::string{R"({"type":"ADDED","object":)"};
  EXPECT_EQ(line->event.object,
            first.substr(prefix.size(), first.size() - prefix.size() - 1));
  auto doc = parse(line->event.object);
  EXPECT_STREQ(doc["metadata"]["name"].GetString(), "unicode");
  EXPECT_EQ(line->event.resource_version,
            doc["metadata"]["resourceVersion"].GetString());
  EXPECT_NE(std::string{doc["data"]["greeting"].GetString()}.find("世界 🚀"),
            std::string::npos);
}

TEST(watch_line, every_type) {
  auto check = [](const char* text, watch_event_type type, const char* rv) {
    auto line = parse_watch_line(text);
    ASSERT_TRUE(line) << text;
    EXPECT_EQ(line->event.type, type);
    EXPECT_EQ(line->event.resource_version, rv);
  };
  check(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}}})",
        watch_event_type::added, "1");
  check(R"({"type":"MODIFIED","object":{"metadata":{"resourceVersion":"2"}}})",
        watch_event_type::modified, "2");
  check(R"({"type":"DELETED","object":{"metadata":{"resourceVersion":"3"}}})",
        watch_event_type::deleted, "3");
  check(
    R"({"type":"BOOKMARK","object":{"kind":"Job","apiVersion":"batch/v1","metadata":{"resourceVersion":"4","creationTimestamp":null},"spec":{"template":{"metadata":{},"spec":{"containers":null}}},"status":{}}})",
    watch_event_type::bookmark, "4");
}

TEST(watch_line, reordered_members_are_reserialized) {
  auto line = parse_watch_line(
    R"({ "object" : {"metadata":{"resourceVersion":"8"}} , "type":"ADDED"})");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->event.object, R"({"metadata":{"resourceVersion":"8"}})");
}

TEST(watch_line, initial_events_end_bookmark) {
  auto line = parse_watch_line(
    R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"48213377","annotations":{"k8s.io/initial-events-end":"true"}}}})");
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->initial_events_end);
  EXPECT_EQ(line->event.resource_version, "48213377");
}

TEST(watch_line, error_410_expired_and_legacy_gone) {
  auto expired = parse_watch_line(
    R"js({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 48100000 (48150211)","reason":"Expired","code":410}})js");
  ASSERT_TRUE(expired);
  EXPECT_TRUE(expired->is_error);
  EXPECT_TRUE(expired->status.is_expired());
  EXPECT_EQ(expired->status.code, 410);
  EXPECT_EQ(expired->event.resource_version, ""); // never taken from a Status
  auto gone = parse_watch_line(
    R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"The resourceVersion for the provided watch is too old.","reason":"Gone","code":410}})");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->status.is_expired());
  auto internal = parse_watch_line(
    R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"boom","reason":"InternalError","code":500}})");
  ASSERT_TRUE(internal);
  EXPECT_FALSE(internal->status.is_expired());
  EXPECT_EQ(internal->status.code, 500);
}

TEST(watch_line, parsed_in_place_the_object_stays_in_the_document) {
  std::string text
    = R"({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"a",)"
      R"("resourceVersion":"9"}}})";
  rapidjson::Document doc;
  auto parsed = parse_watch_line(text, doc);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->line.is_error);
  EXPECT_EQ(parsed->line.event.type, watch_event_type::modified);
  EXPECT_EQ(parsed->line.event.resource_version, "9");
  // No copy of the object: its bytes are a view into the line...
  EXPECT_TRUE(parsed->line.event.object.empty());
  EXPECT_EQ(parsed->object_text,
            R"({"kind":"Pod","metadata":{"name":"a","resourceVersion":"9"}})");
  EXPECT_GE(parsed->object_text.data(), text.data());
  // ...and its DOM is the document's `object`.
  ASSERT_NE(parsed->object, nullptr);
  EXPECT_EQ(parsed->object, &doc["object"]);
  EXPECT_STREQ((*parsed->object)["metadata"]["name"].GetString(), "a");
}

TEST(watch_line, parsed_in_place_without_the_apiservers_shape) {
  rapidjson::Document doc;
  auto parsed = parse_watch_line(
    R"({ "object" : {"metadata":{"resourceVersion":"8"}} , "type":"ADDED"})",
    doc);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->object_text.empty());
  ASSERT_NE(parsed->object, nullptr);
  EXPECT_STREQ((*parsed->object)["metadata"]["resourceVersion"].GetString(),
               "8");
  auto err = parse_watch_line(
    R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Gone"}})",
    doc);
  ASSERT_TRUE(err);
  EXPECT_TRUE(err->line.is_error);
  EXPECT_EQ(err->object, nullptr);
  EXPECT_TRUE(err->line.status.is_expired());
  rapidjson::Document scratch;
  auto bad = parse_watch_line(R"({"type":"SYNC","object":{}})", scratch);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), ec::parse_error);
}

TEST(watch_line, scan_gives_what_the_full_parse_gives) {
  auto recorded = test::fixture("watch_configmaps.jsonl");
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < recorded.size();) {
    auto nl = recorded.find('\n', pos);
    if (nl == std::string::npos)
      nl = recorded.size();
    if (nl > pos)
      lines.push_back(recorded.substr(pos, nl - pos));
    pos = nl + 1;
  }
  ASSERT_FALSE(lines.empty());
  for (
    const char* x :
    {R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}}})",
     R"({"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"a",)"
     R"("labels":{"resourceVersion":"no"},"managedFields":[{)"
     R"("resourceVersion":"no"}],"resourceVersion":"3"},"spec":{}}})",
     R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1",)"
     R"("metadata":{"resourceVersion":"48213377","annotations":{)"
     R"("k8s.io/initial-events-end":"true"}}}})",
     R"({"type":"BOOKMARK","object":{"metadata":{"annotations":{)"
     R"("k8s.io/initial-events-end":"false"},"resourceVersion":"5"}}})",
     R"({"type":"MODIFIED","object":{"metadata":{"resourceVersion":"2"}}})"
     "\n",
     R"({ "object" : {"metadata":{"resourceVersion":"8"}} , "type":"ADDED"})",
     R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}},)"
     R"("extra":1})",
     R"({"type":"ERROR","object":{"kind":"Status","code":410,)"
     R"("reason":"Expired","message":"too old"}})",
     R"({"type":"ADDED","object":{"spec":{"metadata":{)"
     R"("resourceVersion":"1"}}}})",
     R"({"type":"ADDED","object":{"metadata":{"resourceVersion":7}}})",
     R"({"type":"SYNC","object":{"metadata":{"resourceVersion":"1"}}})",
     R"({"type":"ADDED","object":"x"})", R"({"type":"ADDED"})", "[]", "{", "",
     R"({"type":"ADDED","object":{"metadata":{}}} x)"})
    lines.emplace_back(x);
  for (const auto& text : lines) {
    auto full = parse_watch_line(text);
    auto scan = scan_watch_line(text);
    ASSERT_EQ(static_cast<bool>(full), static_cast<bool>(scan)) << text;
    if (!full) {
      EXPECT_EQ(scan.error().code(), full.error().code()) << text;
      continue;
    }
    EXPECT_EQ(scan->is_error, full->is_error) << text;
    EXPECT_EQ(scan->status.code, full->status.code) << text;
    EXPECT_EQ(scan->status.reason, full->status.reason) << text;
    EXPECT_EQ(scan->initial_events_end, full->initial_events_end) << text;
    EXPECT_EQ(scan->event.type, full->event.type) << text;
    EXPECT_EQ(scan->event.resource_version, full->event.resource_version)
      << text;
    EXPECT_EQ(scan->event.object, full->event.object) << text;
  }
}

TEST(watch_line, malformed_lines_are_parse_errors) {
  for (const char* bad :
       {"", "{", "[]", "null", R"({"type":"ADDED"})",
        R"({"type":"ADDED","object":"x"})",
        R"({"type":"SYNC","object":{"metadata":{"resourceVersion":"1"}}})",
        R"({"type":"ADDED","object":{"metadata":{}}})",
        // truncated: the last brace is missing
        R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}})"}) {
    auto line = parse_watch_line(bad);
    ASSERT_FALSE(line) << bad;
    EXPECT_EQ(line.error(), ec::parse_error) << bad;
  }
}

TEST(status, too_large_resource_version_and_retry_after) {
  auto s = parse_status(
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: Too large resource version: 48300000, current: 48213377","reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1},"code":504})",
    504);
  EXPECT_TRUE(s.is_too_large_resource_version());
  EXPECT_EQ(s.retry_after_seconds, 1);
  EXPECT_FALSE(s.is_expired());
}

TEST(status, plain_text_bodies) {
  auto s = parse_status("Too many requests, please try again later.\n", 429);
  EXPECT_EQ(s.code, 429);
  EXPECT_EQ(s.message, "Too many requests, please try again later.\n");
}

TEST(status, status_error_maps_codes_and_names_the_request) {
  response r;
  r.status = 403;
  r.body
    = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"x\" cannot list resource \"pods\"","reason":"Forbidden","code":403})";
  auto err = status_error(r, "GET", "10.0.0.1:6443", "/api/v1/pods");
  EXPECT_EQ(err, ec::unauthorized);
  auto text = kws::render(err);
  EXPECT_NE(text.find("GET 10.0.0.1:6443/api/v1/pods: HTTP 403 Forbidden"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("cannot list"), std::string::npos);
  r.status = 429;
  r.retry_after = std::chrono::seconds{3};
  r.body = "Too many requests";
  err = status_error(r, "GET", "h:1", "/x");
  EXPECT_EQ(err, ec::too_many_requests);
  EXPECT_NE(kws::render(err).find("Retry-After 3s"), std::string::npos);
  r.retry_after.reset();
  r.status = 410;
  EXPECT_EQ(status_error(r, "GET", "h:1", "/x"), ec::gone);
  r.status = 404;
  EXPECT_EQ(status_error(r, "GET", "h:1", "/x"), ec::not_found);
  r.status = 503;
  EXPECT_EQ(status_error(r, "GET", "h:1", "/x"), ec::unexpected_status);
}

TEST(object_meta, reads_metadata_and_stops_early) {
  auto meta = parse_object_meta(
    R"({"kind":"Pod","metadata":{"name":"a","namespace":"ns","uid":"u1","resourceVersion":"17","labels":{"name":"wrong"},"ownerReferences":[{"name":"wrong","uid":"wrong"}]},"spec":{"name":"wrong"} THIS IS NOT JSON)");
  ASSERT_TRUE(meta) << kws::render(meta.error());
  EXPECT_EQ(meta->name, "a");
  EXPECT_EQ(meta->namespace_, "ns");
  EXPECT_EQ(meta->uid, "u1");
  EXPECT_EQ(meta->resource_version, "17");
  EXPECT_EQ(meta->key(), "ns/a");
}

TEST(object_meta, cluster_scoped_nested_names_and_errors) {
  auto meta = parse_object_meta(
    R"({"spec":{"metadata":{"name":"nested"}},"metadata":{"name":"node-1","uid":"u","resourceVersion":"3"}})");
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->key(), "node-1");
  EXPECT_FALSE(parse_object_meta("{\"metadata\":{\"name\":"));
  auto none = parse_object_meta(R"({"kind":"X"})");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->name.empty());
}

TEST(url_encode, continue_tokens_and_selectors) {
  EXPECT_EQ(url_encode("eyJ2Ijo=="), "eyJ2Ijo%3D%3D");
  EXPECT_EQ(url_encode("a=b,c!=d"), "a%3Db%2Cc%21%3Dd");
  EXPECT_EQ(url_encode("AZaz09-_.~"), "AZaz09-_.~");
}

TEST(reflector_queries, list_and_watch_parameters) {
  EXPECT_EQ(list_query({"0", 500, ""}), "limit=500&resourceVersion=0");
  EXPECT_EQ(list_query({"", 500, ""}), "limit=500");
  EXPECT_EQ(list_query({"123", 0, ""}), "resourceVersion=123");
  // Continue pages drop resourceVersion; the token is encoded.
  EXPECT_EQ(list_query({"0", 500, "eyJ=="}), "limit=500&continue=eyJ%3D%3D");
  watch_request w;
  w.resource_version = "48213377";
  w.timeout = std::chrono::seconds{437};
  EXPECT_EQ(watch_query(w),
            "watch=1&resourceVersion=48213377&allowWatchBookmarks=true&"
            "timeoutSeconds=437");
  w.resource_version = "5";
  w.bookmarks = false;
  w.timeout = std::chrono::seconds{300};
  EXPECT_EQ(watch_query(w), "watch=1&resourceVersion=5&timeoutSeconds=300");
}

// Found by tests/fuzz (watch_line): RapidJSON 1.1.0's full-precision parser
// got numbers wrong (0e100 became -2e146, a 30-zero fraction 9.6e-240, an
// integer beyond 64 bits lost a digit) and passed 0 to clz on the way.
// Objects that are re-serialized would have been stored with those values.
TEST(numbers, keep_their_value_when_objects_are_reserialized) {
  // Not the apiserver's shape (a third member): the object is re-serialized.
  auto line = parse_watch_line(
    R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"7"},)"
    R"("a":0e100,"b":-0.000000000000000000000000000000,)"
    R"("c":0.0e-5,"d":"0e100","e":0.5e100,"f":0,"g":0.0,"h":-0,)"
    R"("i":184467440737095516156611000,"j":18446744073709551615,)"
    R"("k":-9223372036854775808,"l":0.1,"m":1e-400},"x":1})");
  ASSERT_TRUE(line) << kws::render(line.error());
  EXPECT_EQ(line->event.object,
            R"({"metadata":{"resourceVersion":"7"},)"
            R"("a":0.0,"b":-0.0,"c":0.0,"d":"0e100","e":5e99,"f":0,"g":0.0,)"
            R"("h":0,"i":1.844674407370955e26,"j":18446744073709551615,)"
            R"("k":-9223372036854775808,"l":0.1,"m":0.0})");
  // The apiserver's shape keeps the bytes as sent.
  line = parse_watch_line(
    R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"8"},"a":0E+300}})");
  ASSERT_TRUE(line) << kws::render(line.error());
  EXPECT_EQ(line->event.object,
            R"({"metadata":{"resourceVersion":"8"},"a":0E+300})");
  auto page = parse_list_page(
    R"({"kind":"ConfigMapList","apiVersion":"v1","metadata":{},)"
    R"("items":[{"metadata":{"name":"z"},"v":[0e23,-0e300,0.00000000000000000000000000e1]}]})");
  ASSERT_TRUE(page) << kws::render(page.error());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0],
            R"({"apiVersion":"v1","kind":"ConfigMap",)"
            R"("metadata":{"name":"z"},"v":[0.0,-0.0,0.0]})");
  // Too large for a double stays an error.
  auto too_large = parse_watch_line(
    R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"9"},"a":1e400}})");
  ASSERT_FALSE(too_large);
  EXPECT_NE(kws::render(too_large.error()).find("cannot parse"),
            std::string::npos)
    << kws::render(too_large.error());
}

TEST(numbers, fuzz_inputs_are_parse_errors_at_their_offsets) {
  // The inputs that found it: fragments starting with "-0e96-43e2-...",
  // "0E0E55" and "[ 18446744073709551615661100 0".
  for (auto [file, offset] :
       {std::pair{"fuzz/watch_line-zero-exponent.json", "offset 5"},
        std::pair{"fuzz/watch_line-zero-then-exponent.bin", "offset 3"},
        std::pair{"fuzz/watch_line-integer-beyond-64-bits.bin", "offset 29"}}) {
    auto line = parse_watch_line(test::fixture(file));
    ASSERT_FALSE(line) << file;
    EXPECT_EQ(line.error(), ec::parse_error);
    EXPECT_NE(kws::render(line.error()).find(offset), std::string::npos)
      << file << ": " << kws::render(line.error());
  }
}

// Found by tests/fuzz (watch_line): with a key repeated in `metadata`, the
// watch-line parser took the first resourceVersion and parse_object_meta the
// last, so the reflector and storage disagreed about the same object.
TEST(object_meta, repeated_keys_first_one_wins_as_in_the_watch_line) {
  auto line = parse_watch_line(
    test::fixture("fuzz/watch_line-repeated-resource-version.json"));
  ASSERT_TRUE(line) << kws::render(line.error());
  EXPECT_EQ(line->event.resource_version, "255");
  auto meta = parse_object_meta(line->event.object);
  ASSERT_TRUE(meta) << kws::render(meta.error());
  EXPECT_EQ(meta->resource_version, "255");
  meta = parse_object_meta(
    R"({"metadata":{"name":"a","uid":"1","name":"b","uid":"2","namespace":"x","namespace":"y"}})");
  ASSERT_TRUE(meta) << kws::render(meta.error());
  EXPECT_EQ(meta->key(), "x/a");
  EXPECT_EQ(meta->uid, "1");
}

TEST(watch_line, the_scan_reads_the_fields_a_record_needs) {
  auto line = scan_watch_line(
    R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap",)"
    R"("metadata":{"name":"c","namespace":"n","uid":"u",)"
    R"("resourceVersion":"5","creationTimestamp":"2026-01-02T03:04:05Z",)"
    R"("managedFields":[{"manager":"kubectl","time":"2026-01-02T03:04:05Z"}]},)"
    R"("data":{"name":"not this one"}}})");
  ASSERT_TRUE(line);
  const auto& f = line->event.facts;
  EXPECT_TRUE(f.complete);
  EXPECT_EQ(f.api_version, "v1");
  EXPECT_EQ(f.kind, "ConfigMap");
  EXPECT_EQ(f.name, "c");
  EXPECT_EQ(f.ns, "n");
  EXPECT_EQ(f.uid, "u");
  EXPECT_EQ(f.resource_version, "5");
  EXPECT_EQ(f.creation_timestamp, "2026-01-02T03:04:05Z");
  EXPECT_TRUE(f.has_managed_fields);
  ASSERT_EQ(f.managers.size(), 1u);
  EXPECT_EQ(f.managers[0].manager, "kubectl");
  // Where the member lies in the object's text, for the builder's cut.
  const auto& object = line->event.object;
  ASSERT_GT(f.managed_fields_key_end, 15u);
  EXPECT_EQ(object.substr(f.managed_fields_key_end - 15, 16),
            "\"managedFields\":");
  ASSERT_LE(f.managed_fields_end, object.size());
  EXPECT_EQ(object.substr(f.managed_fields_end - 2, 3), "}]}");
}

TEST(watch_line, a_line_the_scan_hands_to_the_full_parse_has_no_facts) {
  // Members in another order: the full parse reads it, and the record
  // builder parses the object itself.
  auto line = scan_watch_line(
    R"({"object":{"metadata":{"name":"c","resourceVersion":"5"}},"type":"ADDED"})");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->event.object,
            R"({"metadata":{"name":"c","resourceVersion":"5"}})");
  EXPECT_FALSE(line->event.facts.complete);
}

TEST(watch_line, nesting_beyond_the_scans_depth_takes_the_full_parse) {
  // The scan recurses: a line nested this deep would exhaust the io
  // thread's stack if it followed it to the end.
  constexpr size_t depth = 200'000;
  const std::string head
    = R"({"type":"MODIFIED","object":{"metadata":{"resourceVersion":"9"},"x":)";
  auto line = head + std::string(depth, '[') + std::string(depth, ']') + "}}";
  auto full = parse_watch_line(line);
  auto scan = scan_watch_line(line);
  ASSERT_EQ(static_cast<bool>(full), static_cast<bool>(scan));
  ASSERT_TRUE(scan);
  EXPECT_EQ(scan->event.resource_version, "9");
  EXPECT_EQ(scan->event.object, full->event.object);
  // The record builder refuses objects this deep by itself.
  EXPECT_FALSE(scan->event.facts.complete);
  // At the depth the scan still follows, it reads the facts.
  auto shallow = scan_watch_line(head + std::string(100, '[')
                                 + std::string(100, ']') + "}}");
  ASSERT_TRUE(shallow);
  EXPECT_TRUE(shallow->event.facts.complete);
}
