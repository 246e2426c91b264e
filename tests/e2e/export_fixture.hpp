// The fixture the Kafka export e2e tests share: a real broker (tests/kafka,
// KRaft, from Maven Central's jars), a topic of three partitions, two
// servers standing for two clusters (`export.kafka.cluster` a and b)
// against the shared control plane, and a hub consuming the topic for both;
// and the readers the checks compare stores and the topic with.
#pragma once

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
namespace kws::test::export_e2e {

using namespace std::chrono_literals;

using namespace std::chrono_literals;

constexpr auto patience = 180s;
inline const std::string topic = "kws-e2e-records";

inline std::string kafka_script(const std::string& name) {
  return KWS_SOURCE_DIR "/tests/kafka/" + name;
}

// A free port below the kernel's ephemeral range (32768 up) for the broker.
// It binds its ports seconds after they are picked, and binds them again
// after the outage; a port from the ephemeral range can meanwhile become
// some connection's source port, and the broker then fails to start.
inline uint16_t broker_port(uint16_t other = 0) {
  static std::mt19937 rng{std::random_device{}()};
  for (int i = 0; i < 500; ++i) {
    auto p = static_cast<uint16_t>(20000 + rng() % 12000);
    if (p != other && port_is_free(p))
      return p;
  }
  return 0;
}

inline std::string file_tail(const std::filesystem::path& path) {
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
  uint16_t admin_port = 0;
  /// The command line after the binary.
  std::vector<std::string> args{"hub"};
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

  /// A hub of clusters a and b under `dir`/`name`, in consumer `group`,
  /// configured by its file or, with `by_flags`, by its command line.
  static hub_process make_hub(const std::string& name, const std::string& group,
                              bool by_flags = false) {
    hub_process h;
    h.dir = dir / name;
    std::filesystem::create_directories(h.dir);
    h.port = free_port();
    h.admin_port = free_port();
    std::ofstream config{h.dir / "config.yaml"};
    if (by_flags) {
      config << "retentionDays: 14\n";
      h.args
        = {"hub", "--kafka-brokers", bootstrap, "--topic", topic, "--group",
           group, "--clusters",      "a,b"};
    } else {
      config << "hub:\n  kafka:\n    brokers: [\"" << bootstrap
             << "\"]\n    topic: " << topic << "\n    group: " << group
             << "\n  clusters: [a, b]\n";
    }
    return h;
  }

  static void start_hub(hub_process& h = hub) {
    auto log = (h.dir / "server.log").string();
    h.process = std::make_unique<server_process>(
      std::map<std::string, std::string>{
        {"STORAGE_PATH", (h.dir / "store").string()},
        {"SERVER_PORT", std::to_string(h.port)},
        {"ADMIN_PORT", std::to_string(h.admin_port)},
        {"BACKUP_ROOT", (h.dir / "backups").string()},
        {"CONFIG_PATH", (h.dir / "config.yaml").string()}},
      log, h.args);
    if (!eventually([&h] { return http_get(h.port, "/readyz").status == 200; },
                    60s))
      ADD_FAILURE() << "the hub never became ready; log in " << log;
  }

  /// Churn on the shared control plane (tests/cluster/churn: 8 changes a
  /// second over 4 namespaces) of objects named `prefix`..., logged to
  /// `dir`/`log`.
  static std::unique_ptr<background_command> churn(const std::string& prefix,
                                                   const std::string& duration,
                                                   int seed,
                                                   const std::string& log) {
    return std::make_unique<background_command>(
      cluster_scripts_dir() + "/churn --rate 8 --duration " + duration
        + " --seed " + std::to_string(seed) + " --namespaces 4 --prefix "
        + prefix,
      std::map<std::string, std::string>{{"KWS_CLUSTER_DIR", cluster.dir}},
      (dir / log).string());
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
    hub = make_hub("hub", "kws-e2e-hub");
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
inline bool consume_records(
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
inline bool record_lines(uint16_t port, const std::string& query,
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

} // namespace kws::test::export_e2e
