// The librdkafka settings the producer and the consumer are made with: an
// operator's property librdkafka refuses stops startup naming its section
// and key. No broker is contacted: librdkafka connects lazily.
#include "storage/kafka_consumer.hpp"
#include "storage/kafka_producer.hpp"
#include "util/errors.hpp"

#include <gtest/gtest.h>

using namespace kws;
using namespace kws::storage;

TEST(kafka_client_test, a_refused_export_property_names_its_key) {
  kafka_producer_options opts;
  opts.brokers = {"127.0.0.1:1"};
  opts.topic = "changes";
  opts.properties = {{"no.such.property", "1"}};
  auto producer = kafka_producer::make(opts);
  ASSERT_FALSE(producer);
  EXPECT_NE(render(producer.error())
              .find("export.kafka (librdkafka's no.such.property)"),
            std::string::npos)
    << render(producer.error());
  opts.properties = {{"linger.ms", "not a number"}};
  producer = kafka_producer::make(opts);
  ASSERT_FALSE(producer);
  EXPECT_NE(render(producer.error()).find("librdkafka's linger.ms"),
            std::string::npos)
    << render(producer.error());
}

TEST(kafka_client_test, a_refused_hub_property_names_its_key) {
  kafka_consumer_options opts;
  opts.brokers = {"127.0.0.1:1"};
  opts.topic = "changes";
  opts.group = "hub";
  opts.properties = {{"no.such.property", "1"}};
  auto consumer = kafka_consumer::make(opts);
  ASSERT_FALSE(consumer);
  EXPECT_NE(
    render(consumer.error()).find("hub.kafka (librdkafka's no.such.property)"),
    std::string::npos)
    << render(consumer.error());
}

// The operator's properties win over the defaults: a valid one is taken.
TEST(kafka_client_test, valid_properties_make_clients) {
  kafka_producer_options out;
  out.brokers = {"127.0.0.1:1"};
  out.topic = "changes";
  out.properties = {{"linger.ms", "20"}};
  EXPECT_TRUE(kafka_producer::make(out));
  kafka_consumer_options in;
  in.brokers = {"127.0.0.1:1"};
  in.topic = "changes";
  in.group = "hub";
  in.properties = {{"auto.offset.reset", "latest"}};
  EXPECT_TRUE(kafka_consumer::make(in));
}
