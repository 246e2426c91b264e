// Export to a real Kafka broker: the two servers export to one topic while
// churn runs, and the hub consumes it; the broker is stopped for 30 s, one
// server and then the hub are killed -9. Then the topic holds every record
// of each server's store, each under its cluster and keyed `cluster/uid`,
// and nothing that is not in a store; a record sent twice (after the kill)
// is the same message both times; and the hub holds every record of each
// server once, under its id, and answers /changes for each cluster as that
// cluster's server does. Links first: its test runs first.
#include "tests/e2e/export_fixture.hpp"

namespace kws::test::export_e2e {
namespace {

TEST_F(kafka_export,
       every_record_of_each_cluster_arrives_through_an_outage_and_kills) {
  ASSERT_EQ(servers.size(), 2u);
  const auto since = kws::format_rfc3339(
    std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch() - 1h)
      .count());
  auto prefix = "kx" + std::to_string(::getpid());
  auto changes = churn(prefix, "50s", 5, "churn.log");
  auto exported = [](const exporter_server& s) {
    return metric(s.port, "kws_export_records_total");
  };
  ASSERT_TRUE(eventually([&] { return exported(servers[0]) > 20; }, patience))
    << "server a exported nothing; log in " << (servers[0].dir / "server.log");

  // The broker goes away for 30 s while churn goes on.
  std::string out;
  ASSERT_EQ(run_command(kafka_script("stop-broker"), kafka_env, &out), 0)
    << out;
  std::this_thread::sleep_for(30s);
  for (auto& s : servers)
    EXPECT_GT(metric(s.port, "kws_export_failures_total"), 0)
      << s.cluster << " noticed no outage";
  ASSERT_EQ(run_command(kafka_script("start-broker"), kafka_env, &out), 0)
    << out;

  // Server b dies mid-churn and comes back on the same store; then the
  // hub, which reads again what it had not committed.
  std::this_thread::sleep_for(5s);
  servers[1].process->kill();
  std::this_thread::sleep_for(3s);
  start(servers[1]);
  hub.process->kill();
  std::this_thread::sleep_for(2s);
  start_hub();
  EXPECT_EQ(changes->wait(180s), 0) << "see " << (dir / "churn.log");

  // Caught up: nothing stored is waiting for Kafka.
  for (auto& s : servers)
    EXPECT_TRUE(eventually(
      [&] { return metric(s.port, "kws_export_lag_records") == 0; }, patience))
      << s.cluster << " still has records to export; log in "
      << (s.dir / "server.log");
  // Records still arrive (controllers finish their work); compare a store
  // and the topic read after it until they agree.
  std::map<std::string, std::map<std::string, std::string>> stored;
  std::map<std::string, std::map<std::string, std::vector<message>>> got;
  std::vector<std::string> problems;
  auto agree = eventually(
    [&] {
      stored.clear();
      got.clear();
      problems.clear();
      for (auto& s : servers)
        if (!stored_ids(s.port, stored[s.cluster]))
          return false;
      if (!consume_records(topic, got, problems))
        return false;
      for (auto& [c, ids] : stored) {
        for (auto& [id, uid] : ids)
          if (!got[c].contains(id))
            problems.push_back(c + " record " + id + " never arrived");
        for (auto& [id, copies] : got[c]) {
          if (!ids.contains(id))
            problems.push_back(c + " record " + id + " arrived, not stored");
          for (auto& m : copies)
            if (m.value != copies.front().value)
              problems.push_back(c + " record " + id + " arrived changed");
        }
      }
      return problems.empty();
    },
    patience);
  if (problems.size() > 20)
    problems.resize(20);
  EXPECT_TRUE(agree) << ::testing::PrintToString(problems);
  size_t duplicates = 0;
  for (auto& [c, ids] : got)
    for (auto& [id, copies] : ids)
      duplicates += copies.size() - 1;
  EXPECT_GT(stored["a"].size(), 200u);
  EXPECT_GT(stored["b"].size(), 200u);
  std::cout << "[ export ] a: " << stored["a"].size()
            << " records, b: " << stored["b"].size() << " records, "
            << duplicates << " sent twice\n";

  // The hub holds each server's records once, under their ids, and answers
  // for each cluster what its server answers.
  std::vector<std::string> hub_problems;
  auto hub_agrees = eventually(
    [&] {
      hub_problems.clear();
      for (auto& s : servers) {
        std::map<std::string, std::string> mine;
        std::map<std::string, std::string> held;
        if (!record_lines(s.port, "", mine)
            || !record_lines(hub.port, "cluster=" + s.cluster, held))
          return false;
        for (auto& [id, line] : mine)
          if (!held.contains(id))
            hub_problems.push_back(s.cluster + " record " + id
                                   + " is not at the hub");
          else if (held[id] != line)
            hub_problems.push_back(s.cluster + " record " + id + " is "
                                   + held[id] + " at the hub, " + line);
        for (auto& [id, line] : held)
          if (!mine.contains(id))
            hub_problems.push_back(s.cluster + " record " + id
                                   + " is only at the hub");
        auto window = "/api/v1/changes?start=" + since + "&limit=1000";
        auto theirs = http_get(s.port, window);
        auto at_hub = http_get(hub.port, window + "&cluster=" + s.cluster);
        if (theirs.status != 200 || at_hub.status != 200
            || theirs.body != at_hub.body)
          hub_problems.push_back(s.cluster + "'s /changes differ at the hub");
        // The same gaps too: b's time down, every type's first watch.
        auto coverage = "/api/v1/coverage?start=" + since;
        auto gaps = http_get(s.port, coverage);
        auto held_gaps = http_get(hub.port, coverage + "&cluster=" + s.cluster);
        if (gaps.status != 200 || held_gaps.status != 200
            || gaps.body != held_gaps.body)
          hub_problems.push_back(s.cluster + "'s coverage is " + held_gaps.body
                                 + " at the hub, " + gaps.body);
        else if (s.cluster == "b"
                 && gaps.body.find("server down") == std::string::npos)
          hub_problems.push_back("b's coverage has no server down gap: "
                                 + gaps.body);
      }
      return hub_problems.empty();
    },
    patience);
  if (hub_problems.size() > 20)
    hub_problems.resize(20);
  EXPECT_TRUE(hub_agrees) << ::testing::PrintToString(hub_problems)
                          << "; hub log in " << (hub.dir / "server.log");
  // /changes without a cluster: both clusters' objects in one answer, each
  // entry as its cluster's own answer has it, with `cluster` added.
  std::vector<std::string> merge_problems;
  auto merged_agrees = eventually(
    [&] {
      merge_problems.clear();
      auto window = "/api/v1/changes?start=" + since + "&limit=1000";
      std::map<std::string, rapidjson::Document> own;
      std::map<std::string, const rapidjson::Value*> entries;
      auto key = [](const std::string& c, const rapidjson::Value& e) {
        return c + " " + e["namespace"].GetString() + "/"
          + e["resourceType"].GetString() + "/" + e["resourceName"].GetString()
          + " " + e["uid"].GetString();
      };
      for (auto& s : servers) {
        auto res = http_get(s.port, window);
        auto& doc = own[s.cluster];
        doc.Parse(res.body.c_str());
        if (res.status != 200 || !doc.IsArray())
          return false;
        for (const auto& e : doc.GetArray())
          entries[key(s.cluster, e)] = &e;
      }
      auto res = http_get(hub.port, window);
      rapidjson::Document merged;
      merged.Parse(res.body.c_str());
      if (res.status != 200 || !merged.IsArray())
        return false;
      std::set<std::string> clusters;
      for (auto& e : merged.GetArray()) {
        std::string c = e["cluster"].GetString();
        clusters.insert(c);
        e.RemoveMember("cluster");
        auto it = entries.find(key(c, e));
        if (it == entries.end())
          merge_problems.push_back(key(c, e)
                                   + " is not in its cluster's answer");
        else if (*it->second != e)
          merge_problems.push_back(key(c, e) + " differs from its cluster's");
      }
      if (clusters.size() != 2)
        merge_problems.push_back("the merged answer holds "
                                 + std::to_string(clusters.size())
                                 + " clusters");
      return merge_problems.empty();
    },
    patience);
  if (merge_problems.size() > 20)
    merge_problems.resize(20);
  EXPECT_TRUE(merged_agrees) << ::testing::PrintToString(merge_problems);
  // The hub's own MCP endpoint: what_changed without a cluster ranks the
  // clusters' objects together, each naming its cluster; a tool about one
  // object needs the cluster, and answers with it.
  auto call_tool = [&](const std::string& name, const std::string& args) {
    auto res = http_call(
      hub.port, "POST", "/mcp",
      {{"Content-Type", "application/json"},
       {"Accept", "application/json, text/event-stream"},
       {"MCP-Protocol-Version", "2025-06-18"}},
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":")"
        + name + R"(","arguments":)" + args + "}}");
    auto doc = std::make_shared<rapidjson::Document>();
    doc->Parse(res.body.c_str());
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(doc->IsObject() && doc->HasMember("result")) << res.body;
    return doc;
  };
  auto fleet = call_tool("what_changed", R"({"window":"2h"})");
  if (fleet->IsObject() && fleet->HasMember("result")) {
    const auto& result = (*fleet)["result"];
    ASSERT_FALSE(result["isError"].GetBool());
    const auto& items = result["structuredContent"]["items"];
    ASSERT_GT(items.Size(), 0u);
    for (const auto& item : items.GetArray()) {
      ASSERT_TRUE(item.HasMember("cluster"));
      std::string c = item["cluster"].GetString();
      EXPECT_TRUE(c == "a" || c == "b") << c;
    }
  }
  const std::string one_object
    = R"({"namespace":"default","resourceType":"configmaps",)"
      R"("name":"kube-root-ca.crt")";
  auto unnamed_object = call_tool("object_history", one_object + "}");
  if (unnamed_object->IsObject() && unnamed_object->HasMember("result")) {
    const auto& result = (*unnamed_object)["result"];
    EXPECT_TRUE(result["isError"].GetBool());
    EXPECT_NE(
      std::string{result["content"][0]["text"].GetString()}.find("cluster"),
      std::string::npos);
  }
  auto named_object
    = call_tool("object_history", one_object + R"(,"cluster":"b"})");
  if (named_object->IsObject() && named_object->HasMember("result")) {
    const auto& result = (*named_object)["result"];
    EXPECT_FALSE(result["isError"].GetBool());
    EXPECT_GT(result["structuredContent"]["items"].Size(), 0u);
  }
  auto unnamed = http_get(hub.port, "/api/v1/events");
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_NE(unnamed.body.find(R"("parameter":"cluster")"), std::string::npos)
    << unnamed.body;
  EXPECT_EQ(http_get(hub.port, "/api/v1/clusters").body,
            R"({"clusters":[{"name":"a"},{"name":"b"}]})");
  std::cout << "[ hub ] stored " << metric(hub.port, "kws_hub_records_total")
            << " records since its restart, passed over "
            << metric(hub.port, "kws_hub_repeated_records_total")
            << " held already\n";

  // Server a starts over on a new volume: its new store's ids lie above
  // every id it gave before, so the hub takes its records as new and keeps
  // the old ones. A new record of a version the hub holds (the relist of an
  // unchanged object) is passed over: each version is held once.
  std::map<std::string, std::string> before;
  ASSERT_TRUE(record_lines(hub.port, "cluster=a", before));
  // "uid resourceVersion" of a line: its fourth and fifth words.
  auto version_of = [](const std::string& line) {
    std::istringstream in{line};
    std::string verb, resource, object, uid, rv;
    in >> verb >> resource >> object >> uid >> rv;
    return uid + " " + rv;
  };
  std::set<std::string> held_versions;
  for (auto& [id, line] : before)
    if (line.rfind("delete ", 0) != 0)
      held_versions.insert(version_of(line));
  size_t repeats = 0;
  EXPECT_EQ(servers[0].process->terminate(30s), 0);
  std::filesystem::remove_all(servers[0].dir / "store");
  // A version made meanwhile is new to the hub too.
  auto made = prefix + "-over";
  ASSERT_EQ(
    kubectl(cluster,
            "-n default create configmap " + made + " --from-literal=k=v",
            &out),
    0)
    << out;
  start(servers[0]);
  std::map<std::string, std::string> fresh;
  std::vector<std::string> over_problems;
  auto over = eventually(
    [&] {
      over_problems.clear();
      std::map<std::string, std::string> held;
      fresh.clear();
      if (!record_lines(servers[0].port, "", fresh) || fresh.empty()
          || !record_lines(hub.port, "cluster=a", held))
        return false;
      repeats = 0;
      for (auto& [id, line] : fresh) {
        bool repeat = line.rfind("delete ", 0) != 0
          && held_versions.contains(version_of(line));
        repeats += repeat ? 1 : 0;
        if (before.contains(id))
          over_problems.push_back("the new store gave id " + id + " again");
        else if (repeat && held.contains(id))
          over_problems.push_back("a's new record " + id + " repeats "
                                  + version_of(line) + " at the hub");
        else if (!repeat && held[id] != line)
          over_problems.push_back("a's new record " + id
                                  + " is not at the hub as stored");
      }
      for (auto& [id, line] : before)
        if (held[id] != line)
          over_problems.push_back("a's old record " + id
                                  + " changed at the hub");
      return over_problems.empty();
    },
    patience);
  if (over_problems.size() > 20)
    over_problems.resize(20);
  EXPECT_TRUE(over) << ::testing::PrintToString(over_problems);
  EXPECT_LT(repeats, fresh.size()) << "a's new store holds no new version";
  std::map<std::string, std::string> made_records;
  EXPECT_TRUE(record_lines(hub.port,
                           "cluster=a&namespace=default&resourceType=configmaps"
                           "&resourceName="
                             + made,
                           made_records));
  EXPECT_EQ(made_records.size(), 1u) << made << " is not at the hub";
  kubectl(cluster, "-n default delete configmap " + made, &out);
  std::cout << "[ hub ] a started over: " << fresh.size() - repeats
            << " records of its new store at the hub beside " << before.size()
            << " of its old one; " << repeats
            << " repeated a version the hub holds\n";
}

} // namespace
} // namespace kws::test::export_e2e
