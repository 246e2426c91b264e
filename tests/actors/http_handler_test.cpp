// The HTTP HANDLER with mock INDEX and DISCOVERY on the deterministic
// scheduler: routing, readiness, parameter errors, the type catalog, MCP
// tools over the REST paths, and backups.
#include "tests/actors/http_handler_fixture.hpp"

#include <rapidjson/document.h>

namespace kws {
namespace {

using namespace std::chrono_literals;
using test::http_handler_test;

TEST_F(http_handler_test, health_and_unknown_paths) {
  auto res = call("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"status":"ok"})");
  res = call("/no/such/thing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->body, R"({"error":"no such endpoint: /no/such/thing"})");
}

// The page tells a server from a hub by this answer.
TEST_F(http_handler_test, a_server_lists_no_clusters) {
  auto res = call("/api/v1/clusters");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"clusters":[]})");
}

TEST_F(http_handler_test, readiness_follows_discovery) {
  disc->ready = readiness{false,
                          false,
                          {watcher_status{disc->types[0], true, "", 0},
                           watcher_status{disc->types[1], false, "", 0}}};
  auto res = call("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body,
            R"({"status":"not ready","pending":["deployments.apps"],)"
            R"("failing":[],"behind":[]})");
  disc->ready.ready = true;
  disc->ready.watchers[1].last_error = "403 forbidden";
  disc->ready.watchers[1].refused = true;
  res = call("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body,
            R"({"status":"ready","pending":[],)"
            R"("failing":["deployments.apps"],"behind":[]})");
}

TEST_F(http_handler_test, a_watcher_behind_its_stream_degrades_readiness) {
  disc->ready = readiness{true,
                          true,
                          {watcher_status{disc->types[0], true, "", 0},
                           watcher_status{disc->types[1], true, "", 0}}};
  disc->ready.watchers[0].behind = true;
  disc->ready.watchers[0].lag_ms = 45'000;
  auto res = call("/readyz");
  ASSERT_TRUE(res);
  // Still serving: queries are answered, recent changes may be missing.
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body,
            R"({"status":"degraded","pending":[],"failing":[],)"
            R"("behind":["pods"]})");
}

TEST_F(http_handler_test, coverage_asks_the_index_for_the_window) {
  coverage_gap gap;
  gap.group_resource = "deployments.apps";
  gap.start_ns = 1'767'225'600'000'000'000; // 2026-01-01T00:00:00Z
  gap.end_ns = gap.start_ns + 90'000'000'000;
  gap.from_resource_version = "10";
  gap.to_resource_version = "42";
  gap.reason = "410 Gone";
  idx->gaps = {gap};
  // What is recorded of a type only in part is listed as filtered.
  watcher_status pods{disc->types[0], true, "", 0};
  pods.filter.namespaces = {"shop"};
  pods.filter.exclude_namespaces = {"kube-system"};
  pods.filter.label_selector = "app=web";
  pods.filter.status = status_updates::drop;
  disc->ready.watchers = {pods, watcher_status{disc->types[1], true, "", 0}};
  auto res = call("/api/v1/coverage", {"start", "end"},
                  {"2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body,
            R"({"gaps":[{"resourceType":"deployments","group":"apps",)"
            R"("start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:30Z",)"
            R"("fromResourceVersion":"10","toResourceVersion":"42",)"
            R"("reason":"410 Gone"}],)"
            R"("filtered":[{"resourceType":"pods","group":"",)"
            R"("namespaces":["shop"],"excludeNamespaces":["kube-system"],)"
            R"("labelSelector":"app=web","fieldSelector":"",)"
            R"("statusUpdates":"drop"}]})");
  ASSERT_EQ(idx->coverage_queries.size(), 1u);
  EXPECT_EQ(idx->coverage_queries[0].start_ns, gap.start_ns);
  EXPECT_EQ(idx->coverage_queries[0].end_ns, gap.start_ns + 86'400'000'000'000);
  res = call("/api/v1/coverage", {"start"}, {"yesterday"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"("parameter":"start")"), std::string::npos)
    << res->body;
  EXPECT_EQ(idx->coverage_queries.size(), 1u);
}

// A hub's handler has no DISCOVERY: coverage is what its store holds.
TEST_F(http_handler_test, coverage_without_discovery_is_the_stored_gaps) {
  coverage_gap gap;
  gap.group_resource = "pods";
  gap.start_ns = 1'767'225'600'000'000'000; // 2026-01-01T00:00:00Z
  gap.end_ns = gap.start_ns + 1'000'000'000;
  gap.reason = "server down";
  idx->gaps = {gap};
  self->send_exit(aut, caf::exit_reason::user_shutdown);
  http_handler_config cfg;
  cfg.timeout = 2s;
  aut = sys.spawn(http_handler, cfg, std::vector<index_actor>{index},
                  discovery_actor{}, storage_actor{}, access_actor{});
  auto res = call("/api/v1/coverage", {"start"}, {"2026-01-01T00:00:00Z"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->body,
            R"({"gaps":[{"resourceType":"pods","group":"",)"
            R"("start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z",)"
            R"("fromResourceVersion":"","toResourceVersion":"",)"
            R"("reason":"server down"}],"filtered":[]})");
}

TEST_F(http_handler_test, events_resolve_the_type_and_ask_the_index) {
  idx->page = event_page{{R"({"id":"1"})", R"({"id":"2"})"}, true, "tok"};
  auto res = call("/api/v1/events", {"resourceType", "limit", "verb"},
                  {"Deployment", "10000", "update"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"([{"id":"1"},{"id":"2"}])");
  EXPECT_EQ(res->headers["X-Total-Count"], "2");
  EXPECT_EQ(res->headers["X-Has-More"], "true");
  EXPECT_EQ(res->headers["X-Continue"], "tok");
  ASSERT_EQ(idx->queries.size(), 1u);
  EXPECT_EQ(idx->queries[0].resource, "deployments");
  EXPECT_EQ(idx->queries[0].limit, 500u) << "limit is capped, not rejected";
  EXPECT_EQ(idx->queries[0].verb, "update");
}

TEST_F(http_handler_test, a_pushed_type_catalog_resolves_without_discovery) {
  // DISCOVERY knows nothing; the catalog knows StatefulSets and, retired,
  // a gone CRD's type.
  disc->types.clear();
  api_resource sts;
  sts.type = {"apps", "v1", "StatefulSet", "statefulsets", true};
  sts.short_names = {"sts"};
  sts.verbs = {"list", "watch"};
  sts.preferred = true;
  auto catalog = std::make_shared<kube::type_catalog>();
  catalog->resolver
    = std::make_shared<kube::resource_resolver>(std::vector<api_resource>{sts});
  catalog->retired["gizmos.example.com"]
    = {"example.com", "v1", "Gizmo", "gizmos", true};
  self->send(aut, kube::type_catalog_ptr{catalog});
  run();
  for (const char* name : {"sts", "gizmos"}) {
    auto res = call("/api/v1/events", {"resourceType"}, {name});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << name << ": " << res->body;
  }
  ASSERT_EQ(idx->queries.size(), 2u);
  EXPECT_EQ(idx->queries[0].resource, "statefulsets");
  EXPECT_EQ(idx->queries[1].resource, "gizmos");
  auto res = call("/api/v1/events", {"resourceType"}, {"pods"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"(unknown resource type \"pods\")"),
            std::string::npos)
    << res->body;
}

TEST_F(http_handler_test, bad_parameters_never_reach_the_index) {
  auto res = call("/api/v1/events", {"resourceType"}, {"gadgets"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"("parameter":"resourceType")"), std::string::npos);
  res = call("/api/v1/events", {"limit"}, {"0"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"("parameter":"limit")"), std::string::npos);
  EXPECT_TRUE(idx->queries.empty());
}

TEST_F(http_handler_test, ill_formed_utf8_from_a_request_answers_valid_json) {
  // The body quotes what the client sent; it must stay valid JSON.
  auto valid_json = [](const std::string& body) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
    return !doc.HasParseError() && doc.IsObject() && doc.HasMember("error");
  };
  auto res = call("/api/v1/events", {"verb"}, {"\xff\xfe"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_TRUE(valid_json(res->body)) << res->body;
  EXPECT_NE(res->body.find(R"("parameter":"verb")"), std::string::npos);
  EXPECT_NE(res->body.find("\xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos)
    << "each bad byte shows as U+FFFD: " << res->body;
  res = call("/api/v1/events/default/pods/web\xc0\xaf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404); // no history of that name
  EXPECT_TRUE(valid_json(res->body)) << res->body;
  res = call("/api/v1/events/default/gad\xed\xa0\x80gets/web");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"("parameter":"resourceType")"), std::string::npos)
    << res->body;
  EXPECT_TRUE(valid_json(res->body)) << res->body;
}

TEST_F(http_handler_test, history_of_an_unseen_object_is_404) {
  idx->history.found = false;
  auto res = call("/api/v1/events/default/pods/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  ASSERT_EQ(idx->histories.size(), 1u);
  EXPECT_EQ(idx->histories[0].ns, "default");
  EXPECT_EQ(idx->histories[0].resource, "pods");
  EXPECT_EQ(idx->histories[0].name, "nope");
}

TEST_F(http_handler_test, events_filter_by_change_class_and_path) {
  auto res = call("/api/v1/events", {"changeClass", "path"},
                  {"spec,status", "/spec/template"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(idx->queries.size(), 1u);
  EXPECT_EQ(idx->queries[0].change_classes, (1u << 1) | (1u << 2));
  EXPECT_EQ(idx->queries[0].path, "/spec/template");
  for (auto [name, value] :
       {std::pair{"changeClass", "spec,heartbeat"},
        std::pair{"changeClass", ""}, std::pair{"path", "spec"},
        std::pair{"path", "/a~2b"}}) {
    res = call("/api/v1/events", {name}, {value});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << name << "=" << value;
    EXPECT_NE(res->body.find(std::string{R"("parameter":")"} + name + "\""),
              std::string::npos)
      << res->body;
  }
  EXPECT_EQ(idx->queries.size(), 1u);
}

TEST_F(http_handler_test, answers_count_the_coverage_gaps_of_their_window) {
  coverage_gap pods_gap;
  pods_gap.group_resource = "pods";
  pods_gap.reason = "server down";
  coverage_gap deploy_gap;
  deploy_gap.group_resource = "deployments.apps";
  idx->gaps = {pods_gap, deploy_gap};
  auto res = call("/api/v1/events", {"start", "end"},
                  {"2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->headers["X-Coverage-Gaps"], "2");
  ASSERT_EQ(idx->coverage_queries.size(), 1u);
  EXPECT_EQ(idx->coverage_queries[0].start_ns, 1'767'225'600'000'000'000);
  res = call("/api/v1/events", {"resourceType"}, {"deployments"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->headers["X-Coverage-Gaps"], "1") << "only the asked type";
  idx->history.found = true;
  res = call("/api/v1/events/default/pods/web");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->headers["X-Coverage-Gaps"], "1");
  idx->answer = json_answer{true, "[]", false, "", 0, true};
  res = call("/api/v1/changes", {"resourceType"}, {"pods"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->headers["X-Coverage-Gaps"], "1");
  // Counted where the gaps are, by the type the query named.
  EXPECT_EQ(idx->gap_count_resources,
            (std::vector<std::string>{"", "deployments", "pods", "pods"}));
  EXPECT_EQ(res->headers["X-Has-More"], "false");
}

TEST_F(http_handler_test, records_are_looked_up_by_a_valid_id) {
  idx->answer
    = json_answer{true, R"({"id":"00000000000000ab"})", false, "", 1, false};
  auto res = call("/api/v1/records/00000000000000ab");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"id":"00000000000000ab"})");
  ASSERT_EQ(idx->records.size(), 1u);
  EXPECT_EQ(idx->records[0].id, "00000000000000ab");
  idx->answer
    = json_answer{false, "no record 00000000000000ac", false, "", 0, false};
  res = call("/api/v1/records/00000000000000ac");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("no record 00000000000000ac"), std::string::npos);
  res = call("/api/v1/records/AB");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"("parameter":"id")"), std::string::npos);
  EXPECT_EQ(idx->records.size(), 2u);
}

TEST_F(http_handler_test, diff_and_blame_name_their_object_and_parameters) {
  idx->answer = json_answer{true, R"({"patch":[]})", false, "", 0, false};
  auto res
    = call("/api/v1/events/shop/deployments/web/diff", {"from", "to", "ignore"},
           {"0000000000000001", "0000000000000002", "status,/metadata"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(idx->diffs.size(), 1u);
  const auto& d = idx->diffs[0];
  EXPECT_EQ(d.object.ns, "shop");
  EXPECT_EQ(d.object.resource, "deployments");
  EXPECT_EQ(d.object.name, "web");
  EXPECT_EQ(d.from_id, "0000000000000001");
  EXPECT_EQ(d.to_id, "0000000000000002");
  EXPECT_EQ(d.ignore, (std::vector<std::string>{"/status", "/metadata"}));
  res = call("/api/v1/events/shop/deployments/web/diff", {"from"}, {"latest"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"("parameter":"from")"), std::string::npos);
  res = call("/api/v1/events/_cluster/nodes/n1/blame", {"at"},
             {"2026-01-01T00:00:00Z"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << "nodes is no known type here";
  res = call("/api/v1/events/default/pods/web/blame", {"at"},
             {"2026-01-01T00:00:00Z"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(idx->blames.size(), 1u);
  EXPECT_EQ(idx->blames[0].at_ns, 1'767'225'600'000'000'000);
  res = call("/api/v1/events/default/pods/web/blame", {"at"}, {"noon"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"("parameter":"at")"), std::string::npos);
  EXPECT_EQ(idx->blames.size(), 1u);
}

TEST_F(http_handler_test, snapshots_and_changes_are_paged) {
  idx->answer = json_answer{true, R"([{"id":"1"}])", true, "tok", 1, true};
  auto res = call("/api/v1/snapshot", {"at", "namespace", "limit"},
                  {"2026-01-01T00:00:00Z", "shop", "9999"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->headers["X-Total-Count"], "1");
  EXPECT_EQ(res->headers["X-Has-More"], "true");
  EXPECT_EQ(res->headers["X-Continue"], "tok");
  ASSERT_EQ(idx->snapshots.size(), 1u);
  EXPECT_EQ(idx->snapshots[0].window.end_ns, 1'767'225'600'000'000'000);
  EXPECT_EQ(idx->snapshots[0].window.ns, "shop");
  EXPECT_EQ(idx->snapshots[0].window.limit, 500u);
  res = call("/api/v1/changes", {"start", "end", "changeClass"},
             {"2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "spec"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(idx->changes.size(), 1u);
  EXPECT_EQ(idx->changes[0].window.change_classes, 1u << 1);
  res = call("/api/v1/changes", {"start", "end"},
             {"2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"("parameter":"start")"), std::string::npos);
  EXPECT_EQ(idx->changes.size(), 1u);
}

/// A POST /mcp of `body` (a legacy-era message).
std::optional<http_response> mcp_call(http_handler_test& t,
                                      const std::string& body) {
  http_request req{"POST", "/mcp", {}, {}, false};
  req.headers["content-type"] = "application/json";
  req.body = body;
  return t.ask(std::move(req));
}

TEST_F(http_handler_test, an_mcp_tool_runs_its_queries_through_the_rest_paths) {
  idx->answer
    = json_answer{true,
                  R"([{"namespace":"shop","resourceName":"web-1","events":)"
                  R"({"Warning":2,"Normal":0,"reasons":{"BackOff":2}}}])",
                  false,
                  "",
                  1,
                  true};
  idx->page = event_page{
    {R"({"id":"0000000000000007","namespace":"shop","resourceName":"api-0",)"
     R"("message":"Update pods api-0: container app waiting: )"
     R"(ImagePullBackOff: Back-off"})"},
    false,
    ""};
  auto res
    = mcp_call(*this,
               R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":)"
               R"({"name":"check_pod_issues","arguments":{"start_time":)"
               R"("2026-01-01T00:00:00Z","end_time":"2026-01-01T01:00:00Z",)"
               R"("namespace":"shop"}}})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  // Both queries went through the parsers and the resolver to INDEX.
  ASSERT_EQ(idx->changes.size(), 1u);
  EXPECT_EQ(idx->changes[0].window.resource, "pods");
  EXPECT_EQ(idx->changes[0].window.ns, "shop");
  ASSERT_EQ(idx->queries.size(), 1u);
  EXPECT_EQ(idx->queries[0].resource, "pods");
  EXPECT_EQ(idx->queries[0].change_classes, 1u << 2) << "status only";
  EXPECT_NE(res->body.find(R"("id":5,"result")"), std::string::npos);
  EXPECT_NE(res->body.find(R"("resourceName":"web-1","warnings":2)"),
            std::string::npos)
    << res->body;
  EXPECT_NE(res->body.find("ImagePullBackOff"), std::string::npos);
  EXPECT_NE(res->body.find(R"("isError":false)"), std::string::npos);
  // A query the REST layer refuses is an error result naming the argument.
  res = mcp_call(
    *this,
    R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":)"
    R"({"name":"list_changes","arguments":{"resourceType":"gadgets"}}})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find(R"("isError":true)"), std::string::npos);
  EXPECT_NE(res->body.find("argument resourceType"), std::string::npos)
    << res->body;
  EXPECT_EQ(idx->queries.size(), 1u) << "never reached INDEX";
  // Protocol answers need no query at all.
  res = mcp_call(*this, R"({"jsonrpc":"2.0","id":7,"method":"ping"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, R"({"jsonrpc":"2.0","id":7,"result":{}})");
}

TEST_F(http_handler_test, backup_asks_storage_for_a_checkpoint) {
  auto res = call("/admin/backup", {"dest"}, {"/backups/today"}, "POST");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"path":"/backups/today"})");
  // A relative name goes under backupRoot.
  res = call("/admin/backup", {"dest"}, {"daily/2026-12-04"}, "POST");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"path":"/backups/daily/2026-12-04"})");
  res = call("/admin/backup", {"dest"}, {"/x"}, "GET");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  // No way out of backupRoot.
  for (const char* escape : {"/backups/../etc/cron.d", "/backups/./x", "/..",
                             "/etc/cron.d", "/backups", "../x", ""}) {
    res = call("/admin/backup", {"dest"}, {escape}, "POST");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << escape;
    EXPECT_NE(res->body.find(R"("parameter":"dest")"), std::string::npos)
      << res->body;
  }
  res = call("/admin/backup", {"dest"}, {"/etc/cron.d"}, "POST");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body,
            R"({"error":"dest must lie inside backupRoot )"
            R"(/backups, got /etc/cron.d","parameter":"dest"})");
  EXPECT_EQ(
    store->backups,
    (std::vector<std::string>{"/backups/today", "/backups/daily/2026-12-04"}));
  EXPECT_EQ(store->backup_roots,
            (std::vector<std::string>{"/backups", "/backups"}));
}

} // namespace
} // namespace kws
