// Export over the broker's SASL_SSL listener: records go over TLS with the
// right password, and a wrong password is refused and noticed.
#include "tests/e2e/export_fixture.hpp"

namespace kws::test::export_e2e {
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
  // The first failure may come from the coverage sent before any record is
  // stored; the records stored after it then wait.
  EXPECT_TRUE(eventually(
    [&] { return metric(bad.port, "kws_export_lag_records") > 0; }, patience))
    << "the refused server's records were not counted as waiting";
  EXPECT_EQ(metric(bad.port, "kws_export_records_total"), 0);
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
} // namespace kws::test::export_e2e
