// Export to a real Kafka broker (tests/kafka, KRaft, from Maven Central's
// jars): two servers stand for two clusters (`export.kafka.cluster` a and
// b) against the shared control plane and export to one topic while churn
// runs, and a hub (`k8s-watch-server hub`) consumes it; the broker is
// stopped for 30 s, one server and then the hub are killed -9. Then the
// topic holds every record of each server's store, each under its cluster
// and keyed `cluster/uid`, and nothing that is not in a store; a record
// sent twice (after the kill) is the same message both times; and the hub
// holds every record of each server once, under its id, and answers
// /changes for each cluster as that cluster's server does.
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/service_queries.hpp"
#include "util/file_text.hpp"
#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace kws::test {
namespace {

using namespace std::chrono_literals;

constexpr auto patience = 180s;
const std::string topic = "kws-e2e-records";

std::string kafka_script(const std::string& name) {
  return KWS_SOURCE_DIR "/tests/kafka/" + name;
}

// A free port below the kernel's ephemeral range (32768 up) for the broker.
// It binds its ports seconds after they are picked, and binds them again
// after the outage; a port from the ephemeral range can meanwhile become
// some connection's source port, and the broker then fails to start.
uint16_t broker_port(uint16_t other = 0) {
  static std::mt19937 rng{std::random_device{}()};
  for (int i = 0; i < 500; ++i) {
    auto p = static_cast<uint16_t>(20000 + rng() % 12000);
    if (p != other && port_is_free(p))
      return p;
  }
  return 0;
}

std::string file_tail(const std::filesystem::path& path) {
  std::string text;
  if (!kws::read_file_text(path.string(), text))
    return "(cannot read " + path.string() + ")";
  return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
}

struct exporter_server {
  std::string cluster;
  std::filesystem::path dir;
  uint16_t port = 0;
  std::unique_ptr<server_process> process;
};

/// The hub consuming the topic for clusters a and b.
struct hub_process {
  std::filesystem::path dir;
  uint16_t port = 0;
  std::unique_ptr<server_process> process;
};

struct kafka_export : ::testing::Test {
  static inline cluster_state cluster;
  static inline std::filesystem::path dir;
  static inline std::map<std::string, std::string> kafka_env;
  static inline std::string bootstrap;
  /// The broker's SASL_SSL listener (tests/kafka/up --secure-port).
  static inline std::string secure;
  static inline std::vector<exporter_server> servers;
  static inline hub_process hub;

  static void start_hub() {
    auto log = (hub.dir / "server.log").string();
    hub.process = std::make_unique<server_process>(
      std::map<std::string, std::string>{
        {"STORAGE_PATH", (hub.dir / "store").string()},
        {"SERVER_PORT", std::to_string(hub.port)},
        {"CONFIG_PATH", (hub.dir / "config.yaml").string()}},
      log, std::vector<std::string>{"hub"});
    if (!eventually([] { return http_get(hub.port, "/readyz").status == 200; },
                    60s))
      ADD_FAILURE() << "the hub never became ready; log in " << log;
  }

  static void start(exporter_server& s) {
    s.process = start_ready_server(cluster, s.dir.string(), s.port,
                                   (s.dir / "config.yaml").string());
  }

  static void SetUpTestSuite() {
    cluster = load_cluster_state();
    dir = std::filesystem::temp_directory_path()
      / ("kws-e2e-export-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    kafka_env = {{"KWS_KAFKA_DIR", (dir / "kafka").string()}};
    std::string out;
    auto kafka_port = broker_port();
    auto secure_port = broker_port(kafka_port);
    secure = "127.0.0.1:" + std::to_string(secure_port);
    ASSERT_EQ(run_command(kafka_script("up") + " --port "
                            + std::to_string(kafka_port) + " --secure-port "
                            + std::to_string(secure_port) + " 2>>"
                            + (dir / "kafka-up.log").string(),
                          kafka_env, &out),
              0)
      << "tests/kafka/up failed:\n"
      << file_tail(dir / "kafka-up.log");
    std::istringstream lines{out};
    for (std::string line; std::getline(lines, line);)
      if (!line.empty())
        bootstrap = line;
    ASSERT_EQ(run_command(kafka_script("create-topic") + " --bootstrap "
                            + bootstrap + " --topic " + topic
                            + " --partitions 3",
                          kafka_env, &out),
              0)
      << out;
    for (const char* name : {"a", "b"}) {
      exporter_server s;
      s.cluster = name;
      s.dir = dir / name;
      std::filesystem::create_directories(s.dir);
      s.port = free_port();
      std::ofstream{s.dir / "config.yaml"}
        << "export:\n  kafka:\n    brokers: [\"" << bootstrap
        << "\"]\n    topic: " << topic << "\n    cluster: " << name
        << "\n    deliveryTimeoutSeconds: 5\n";
      servers.push_back(std::move(s));
    }
    hub.dir = dir / "hub";
    std::filesystem::create_directories(hub.dir);
    hub.port = free_port();
    std::ofstream{hub.dir / "config.yaml"}
      << "hub:\n  kafka:\n    brokers: [\"" << bootstrap
      << "\"]\n    topic: " << topic
      << "\n    group: kws-e2e-hub\n  clusters: [a, b]\n";
    start_hub();
    for (auto& s : servers)
      start(s);
  }

  static void TearDownTestSuite() {
    for (auto& s : servers)
      if (s.process && s.process->running()) {
        EXPECT_EQ(s.process->terminate(30s), 0)
          << "the server's exit; log in " << (s.dir / "server.log");
      }
    servers.clear();
    if (hub.process && hub.process->running()) {
      EXPECT_EQ(hub.process->terminate(30s), 0)
        << "the hub's exit; log in " << (hub.dir / "server.log");
    }
    hub.process.reset();
    std::string out;
    EXPECT_EQ(run_command(kafka_script("down"), kafka_env, &out), 0) << out;
    if (::testing::UnitTest::GetInstance()->failed_test_count() == 0)
      std::filesystem::remove_all(dir);
  }

  /// Every record the server at `port` holds: its uid by id.
  static bool stored_ids(uint16_t port,
                         std::map<std::string, std::string>& uids) {
    std::vector<record_digest> records;
    if (!fetch_all(port, "", records))
      return false;
    for (const auto& r : records)
      uids[r.id] = r.uid;
    return true;
  }
};

struct message {
  std::string key;
  std::string value;
};

/// Every record message of `t` by cluster and id; lines that are neither a
/// record message nor a cluster's coverage message go to `problems`. False
/// when the consumer could not run.
bool consume_records(
  const std::string& t,
  std::map<std::string, std::map<std::string, std::vector<message>>>& got,
  std::vector<std::string>& problems) {
  std::string lines;
  if (run_command(kafka_script("consume") + " --bootstrap "
                    + kafka_export::bootstrap + " --topic " + t
                    + " --timeout-ms 5000 2>/dev/null",
                  kafka_export::kafka_env, &lines)
      != 0)
    return false;
  std::istringstream in{lines};
  for (std::string line; std::getline(in, line);) {
    auto tab = line.find('\t');
    rapidjson::Document doc;
    if (tab != std::string::npos)
      doc.Parse(line.c_str() + tab + 1);
    if (tab != std::string::npos && !doc.HasParseError() && doc.IsObject()
        && doc.HasMember("coverage") && doc.HasMember("cluster")
        && line.substr(0, tab)
          == std::string{doc["cluster"].GetString()} + "/coverage")
      continue;
    if (tab == std::string::npos || doc.HasParseError() || !doc.IsObject()
        || !doc.HasMember("cluster") || !doc.HasMember("id")
        || !doc.HasMember("uid")) {
      problems.push_back("not a record message: " + line);
      continue;
    }
    std::string c = doc["cluster"].GetString();
    std::string id = doc["id"].GetString();
    std::string key = line.substr(0, tab);
    if (key != c + "/" + doc["uid"].GetString())
      problems.push_back("key " + key + " of " + c + " record " + id);
    got[c][id].push_back({key, line.substr(tab + 1)});
  }
  return true;
}

/// The records of the server at `port` (of `cluster` at the hub) as
/// comparable lines by id; false when a page is not a 200.
bool record_lines(uint16_t port, const std::string& query,
                  std::map<std::string, std::string>& out) {
  std::vector<record_digest> records;
  if (!fetch_all(port, query, records))
    return false;
  for (const auto& r : records)
    out[r.id] = r.verb + " " + r.key.resource + " " + r.key.ns + "/"
      + r.key.name + " " + r.uid + " " + r.resource_version
      + (r.final_state_unknown ? " unknown" : "");
  return true;
}

TEST_F(kafka_export,
       every_record_of_each_cluster_arrives_through_an_outage_and_kills) {
  ASSERT_EQ(servers.size(), 2u);
  const auto since = kws::format_rfc3339(
    std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch() - 1h)
      .count());
  auto prefix = "kx" + std::to_string(::getpid());
  background_command churn{
    cluster_scripts_dir()
      + "/churn --rate 8 --duration 50s --seed 5 --namespaces 4 --prefix "
      + prefix,
    {{"KWS_CLUSTER_DIR", cluster.dir}},
    (dir / "churn.log").string()};
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
  EXPECT_EQ(churn.wait(180s), 0) << "see " << (dir / "churn.log");

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
} // namespace kws::test

namespace kws::test {
namespace {

/// A server configured for the broker's SASL_SSL listener, its CA and its
/// PLAIN credentials (SCRAM needs librdkafka 2.6.1 with Kafka 4 brokers).
exporter_server secure_server(const std::string& name,
                              const std::string& password_file) {
  exporter_server s;
  s.cluster = name;
  s.dir = kafka_export::dir / name;
  std::filesystem::create_directories(s.dir);
  s.port = free_port();
  auto tls = kafka_export::dir / "kafka" / "tls";
  std::ofstream{s.dir / "config.yaml"}
    << "export:\n  kafka:\n    brokers: [\"" << kafka_export::secure
    << "\"]\n    topic: kws-e2e-secure\n    cluster: " << name
    << "\n    deliveryTimeoutSeconds: 5\n    tls: {caFile: \""
    << (tls / "ca.crt").string()
    << "\"}\n    sasl: {mechanism: PLAIN, username: kws, passwordFile: \""
    << password_file << "\"}\n";
  return s;
}

TEST_F(kafka_export,
       tls_and_sasl_carry_the_records_and_a_wrong_password_is_refused) {
  auto tls = dir / "kafka" / "tls";
  ASSERT_TRUE(std::filesystem::exists(tls / "password"));
  std::ofstream{dir / "wrong-password"} << "not-the-password";
  auto good = secure_server("c", (tls / "password").string());
  auto bad = secure_server("d", (dir / "wrong-password").string());
  start(good);
  start(bad);
  ASSERT_TRUE(eventually(
    [&] {
      return metric(good.port, "kws_export_records_total") > 0
        && metric(good.port, "kws_export_lag_records") == 0;
    },
    patience))
    << "nothing went over TLS; log in " << (good.dir / "server.log");
  EXPECT_TRUE(eventually(
    [&] { return metric(bad.port, "kws_export_failures_total") > 0; },
    patience))
    << "a wrong password went unnoticed; log in " << (bad.dir / "server.log");
  EXPECT_EQ(metric(bad.port, "kws_export_records_total"), 0);
  EXPECT_GT(metric(bad.port, "kws_export_lag_records"), 0);
  // What the store holds and what the topic holds agree (read until one
  // reading sees both at the same point: the cluster keeps changing).
  std::vector<std::string> problems;
  size_t arrived = 0;
  auto agree = eventually(
    [&] {
      std::map<std::string, std::string> stored;
      std::map<std::string, std::map<std::string, std::vector<message>>> got;
      problems.clear();
      if (!stored_ids(good.port, stored)
          || !consume_records("kws-e2e-secure", got, problems))
        return false;
      if (got.contains("d"))
        problems.emplace_back("the refused server's records arrived");
      for (auto& [id, uid] : stored)
        if (!got["c"].contains(id))
          problems.push_back("record " + id + " never arrived");
      for (auto& [id, copies] : got["c"])
        if (!stored.contains(id))
          problems.push_back("record " + id + " arrived, not stored");
      arrived = got["c"].size();
      return problems.empty();
    },
    patience);
  if (problems.size() > 20)
    problems.resize(20);
  EXPECT_TRUE(agree) << ::testing::PrintToString(problems);
  EXPECT_GT(arrived, 100u);
  for (auto* s : {&good, &bad})
    EXPECT_EQ(s->process->terminate(30s), 0)
      << "the server's exit; log in " << (s->dir / "server.log");
}

} // namespace
} // namespace kws::test
