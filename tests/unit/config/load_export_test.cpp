// The `export.kafka` and `hub` sections: off by default, read whole, and
// every wrong value stops startup with its key.
#include "load_fixture.hpp"

#include <gtest/gtest.h>

namespace kws::config {
namespace {

TEST_F(load_test, kafka_export_is_off_by_default_and_read_from_its_section) {
  auto s = load(write("serverPort: 8080\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_FALSE(s->kafka_export.enabled());
  s = load(write(R"(export:
  kafka:
    brokers: [kafka-0.kafka:9092, "10.0.0.7:9093"]
    topic: fleet.records
    cluster: prod-eu-1
    deliveryTimeoutSeconds: 20
    tls: {caFile: /kafka/ca.crt, certFile: /kafka/tls.crt, keyFile: /kafka/tls.key}
    sasl: {mechanism: SCRAM-SHA-512, username: kws, passwordFile: /kafka/password}
)"),
           env());
  ASSERT_TRUE(s) << render(s.error());
  const auto& k = s->kafka_export;
  EXPECT_TRUE(k.enabled());
  EXPECT_EQ(k.brokers,
            (std::vector<std::string>{"kafka-0.kafka:9092", "10.0.0.7:9093"}));
  EXPECT_EQ(k.topic, "fleet.records");
  EXPECT_EQ(k.cluster, "prod-eu-1");
  EXPECT_EQ(k.delivery_timeout_seconds, 20u);
  EXPECT_TRUE(k.tls);
  EXPECT_EQ(k.ca_file, "/kafka/ca.crt");
  EXPECT_EQ(k.cert_file, "/kafka/tls.crt");
  EXPECT_EQ(k.key_file, "/kafka/tls.key");
  EXPECT_EQ(k.sasl_mechanism, "SCRAM-SHA-512");
  EXPECT_EQ(k.sasl_username, "kws");
  EXPECT_EQ(k.sasl_password_file, "/kafka/password");
  // A chart that renders an empty section exports nothing.
  s = load(write("export: {kafka: null}\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_FALSE(s->kafka_export.enabled());
  s = load(
    write("export:\n  kafka: {brokers: [k:9092], cluster: a, tls: {}}\n"),
    env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->kafka_export.topic, "k8s-watch-server");
  EXPECT_TRUE(s->kafka_export.tls) << "tls present means TLS, system CAs";
}

TEST_F(load_test, invalid_kafka_export_settings_name_the_key) {
  auto expect = [&](const std::string& yaml, const std::string& needle) {
    auto err = error_of(yaml);
    EXPECT_NE(err.find(needle), std::string::npos) << yaml << " -> " << err;
  };
  expect("export:\n  kafka: {brokers: [k:9092]}\n",
         "export.kafka.cluster: needed with export.kafka.brokers");
  expect("export:\n  kafka: {brokers: [kafka], cluster: a}\n",
         "export.kafka.brokers[0]: expected host:port, got 'kafka'");
  expect("export:\n  kafka: {brokers: ['k:99999'], cluster: a}\n",
         "export.kafka.brokers[0]: expected host:port");
  expect("export:\n  kafka: {brokers: k:9092, cluster: a}\n",
         "export.kafka.brokers: expected a list");
  expect("export:\n  kafka: {brokers: [k:9092], cluster: -a}\n",
         "export.kafka.cluster: '-a' is no cluster name");
  expect("export:\n  kafka: {brokers: [k:9092], cluster: 'a/b'}\n",
         "export.kafka.cluster: 'a/b' is no cluster name");
  expect("export:\n  kafka: {brokers: [k:9092], cluster: a, topic: 'x y'}\n",
         "export.kafka.topic: 'x y' is no Kafka topic name");
  expect("export:\n  kafka: {brokers: [k:9092], cluster: a, "
         "deliveryTimeoutSeconds: 0}\n",
         "export.kafka.deliveryTimeoutSeconds");
  expect("export:\n  kafka: {brokers: [k:9092], cluster: a, "
         "tls: {certFile: /c}}\n",
         "export.kafka.tls.keyFile: needed as well");
  expect("export:\n  kafka: {brokers: [k:9092], cluster: a, "
         "tls: {caFil: /c}}\n",
         "export.kafka.tls.caFil: unknown key");
  expect("export:\n  kafka: {brokers: [k:9092], cluster: a, "
         "sasl: {mechanism: GSSAPI, username: u, passwordFile: /p}}\n",
         "export.kafka.sasl.mechanism: expected PLAIN, SCRAM-SHA-256 or "
         "SCRAM-SHA-512, got 'GSSAPI'");
  expect("export:\n  kafka: {brokers: [k:9092], cluster: a, "
         "sasl: {mechanism: PLAIN, username: u}}\n",
         "export.kafka.sasl.passwordFile: needed");
  expect("export:\n  kafka: {brokers: [k:9092], cluster: a, partitions: 3}\n",
         "export.kafka.partitions: unknown key");
  expect("export:\n  loki: {}\n", "export.loki: unknown key");
  expect("export: kafka\n", "export: expected a mapping");
}

TEST_F(load_test, the_hub_section_is_read_whole) {
  auto s = load(write("serverPort: 8080\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_TRUE(s->hub.kafka.brokers.empty());
  EXPECT_TRUE(s->hub.clusters.empty());
  EXPECT_EQ(s->hub.group, "k8s-watch-server-hub");
  s = load(write(R"(hub:
  kafka:
    brokers: ["kafka-0.kafka:9092"]
    topic: fleet.records
    group: hub-eu
    tls: {caFile: /kafka/ca.crt}
    sasl: {mechanism: PLAIN, username: hub, passwordFile: /kafka/password}
  clusters: [prod-eu-1, prod-eu-2]
)"),
           env());
  ASSERT_TRUE(s) << render(s.error());
  const auto& h = s->hub;
  EXPECT_EQ(h.kafka.brokers, (std::vector<std::string>{"kafka-0.kafka:9092"}));
  EXPECT_EQ(h.kafka.topic, "fleet.records");
  EXPECT_EQ(h.group, "hub-eu");
  EXPECT_TRUE(h.kafka.tls);
  EXPECT_EQ(h.kafka.ca_file, "/kafka/ca.crt");
  EXPECT_EQ(h.kafka.sasl_mechanism, "PLAIN");
  EXPECT_EQ(h.kafka.sasl_password_file, "/kafka/password");
  EXPECT_EQ(h.clusters, (std::vector<std::string>{"prod-eu-1", "prod-eu-2"}));
  EXPECT_FALSE(s->kafka_export.enabled()) << "a hub section exports nothing";
}

TEST_F(load_test, invalid_hub_settings_name_the_key) {
  auto expect = [&](const std::string& yaml, const std::string& needle) {
    auto err = error_of(yaml);
    EXPECT_NE(err.find(needle), std::string::npos) << yaml << " -> " << err;
  };
  expect("hub:\n  kafka: {brokers: [kafka]}\n",
         "hub.kafka.brokers[0]: expected host:port, got 'kafka'");
  expect("hub:\n  kafka: {brokers: [k:9092], cluster: a}\n",
         "hub.kafka.cluster: unknown key");
  expect("hub:\n  kafka: {brokers: [k:9092], group: ''}\n",
         "hub.kafka.group: must not be empty");
  expect("hub:\n  kafka: {brokers: [k:9092], tls: {certFile: /c}}\n",
         "hub.kafka.tls.keyFile: needed as well");
  expect("hub:\n  kafka: {brokers: [k:9092], sasl: {mechanism: PLAIN}}\n",
         "hub.kafka.sasl.username: needed");
  expect("hub:\n  clusters: [a, 'b c']\n",
         "hub.clusters[1]: 'b c' is no cluster name");
  expect("hub:\n  clusters: [a, b, a]\n",
         "hub.clusters[2]: 'a' is named twice");
  expect("hub:\n  clusters: a\n", "hub.clusters: expected a list");
  expect("hub:\n  partitions: 3\n", "hub.partitions: unknown key");
  expect("hub: kafka\n", "hub: expected a mapping");
}

TEST_F(load_test, hub_flags_replace_their_keys_checked_as_the_file_is) {
  auto s = load(write(R"(hub:
  kafka: {brokers: ["k:9092"], topic: fleet, tls: {caFile: /kafka/ca.crt}}
  clusters: [a]
)"),
                env());
  ASSERT_TRUE(s) << render(s.error());
  const auto before = s->hub;
  ASSERT_FALSE(apply_hub_flags(*s, hub_flags{}));
  EXPECT_EQ(s->hub, before) << "no flag changes nothing";
  ASSERT_FALSE(
    apply_hub_flags(*s, hub_flags{{"b1:9092", "b2:9092"}, "", "", {"x", "y"}}));
  EXPECT_EQ(s->hub.kafka.brokers,
            (std::vector<std::string>{"b1:9092", "b2:9092"}));
  EXPECT_EQ(s->hub.clusters, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(s->hub.kafka.topic, "fleet");
  EXPECT_EQ(s->hub.kafka.ca_file, "/kafka/ca.crt");
  EXPECT_EQ(s->hub.group, "k8s-watch-server-hub");
  ASSERT_FALSE(apply_hub_flags(*s, hub_flags{{}, "other", "hub-eu", {}}));
  EXPECT_EQ(s->hub.kafka.topic, "other");
  EXPECT_EQ(s->hub.group, "hub-eu");
  EXPECT_EQ(s->hub.kafka.brokers.size(), 2u);
  auto refused = [&](hub_flags f, const std::string& needle) {
    auto err = apply_hub_flags(*s, f);
    EXPECT_TRUE(err) << needle;
    auto text = err ? render(err) : std::string{};
    EXPECT_NE(text.find(needle), std::string::npos) << text;
  };
  refused({{"kafka"}, "", "", {}},
          "hub.kafka.brokers[0]: expected host:port, got 'kafka'");
  refused({{}, "no topic!", "", {}}, "hub.kafka.topic");
  refused({{}, "", "", {"a", "a"}}, "hub.clusters[1]: 'a' is named twice");
  refused({{}, "", "", {"b c"}}, "hub.clusters[0]: 'b c' is no cluster name");
}

} // namespace
} // namespace kws::config
