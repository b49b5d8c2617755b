// engine: (docs/engines.md) — the embedded default, a JetStream engine, and the errors a bad section gets.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace herald::config {
namespace {

TEST(EngineConfig, EmbeddedIsTheDefault) {
    auto c = parse_config("");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->engine.kind, "embedded");
    EXPECT_TRUE(c->engine.jetstream.servers.empty());
    EXPECT_EQ(c->engine.jetstream.streams, "per_topic");
}

TEST(EngineConfig, JetStreamEveryKey) {
    auto c = parse_config(R"(engine:
  kind: jetstream
  jetstream:
    servers: [nats://127.0.0.1:4222, "tls://nats-2.internal:4222"]
    stream_prefix: EVENTS_
    subject_prefix: acme.events.
    streams: shared
    replicas: 3
    ack_timeout: 500ms
    publish_timeout: 20s
    request_timeout: 2s
    lease_ttl: 3s
)");
    ASSERT_TRUE(c) << c.error().message;
    auto& j = c->engine.jetstream;
    EXPECT_EQ(c->engine.kind, "jetstream");
    EXPECT_EQ(j.servers, (std::vector<std::string>{"nats://127.0.0.1:4222", "tls://nats-2.internal:4222"}));
    EXPECT_EQ(j.stream_prefix, "EVENTS_");
    EXPECT_EQ(j.subject_prefix, "acme.events.");
    EXPECT_EQ(j.streams, "shared");
    EXPECT_EQ(j.replicas, 3);
    EXPECT_EQ(j.ack_timeout_ms, 500);
    EXPECT_EQ(j.publish_timeout_ms, 20'000);
    EXPECT_EQ(j.request_timeout_ms, 2'000);
    EXPECT_EQ(j.lease_ttl_ms, 3'000);
}

TEST(EngineConfig, KafkaEveryKey) {
    auto c = parse_config(R"(engine:
  kind: kafka
  kafka:
    brokers: [kafka-1:9092, "kafka-2:9092"]
    topic_prefix: events.
    replication_factor: 3
    create_topics: broker
    publish_timeout: 20s
    request_timeout: 2s
    linger: 5ms
    properties:
      security.protocol: SASL_SSL
      sasl.password: s3cret
    bridges:
      - topic: legacy-orders
        kafka_topic: orders.v2
        partition: 2
        write_format: binary
        wrap_type: legacy.orderRecorded.v1
        wrap_source: /legacy
      - {topic: billing, kafka_topic: billing}
)");
    ASSERT_TRUE(c) << c.error().message;
    auto& k = c->engine.kafka;
    EXPECT_EQ(c->engine.kind, "kafka");
    EXPECT_EQ(k.brokers, (std::vector<std::string>{"kafka-1:9092", "kafka-2:9092"}));
    EXPECT_EQ(k.topic_prefix, "events.");
    EXPECT_EQ(k.replication_factor, 3);
    EXPECT_EQ(k.create_topics, "broker");
    EXPECT_EQ(k.publish_timeout_ms, 20'000);
    EXPECT_EQ(k.request_timeout_ms, 2'000);
    EXPECT_EQ(k.linger_ms, 5);
    EXPECT_EQ(k.properties.at("security.protocol"), "SASL_SSL");
    EXPECT_EQ(k.properties.at("sasl.password"), "s3cret");
    ASSERT_EQ(k.bridges.size(), 2u);
    EXPECT_EQ(k.bridges[0].topic, "legacy-orders");
    EXPECT_EQ(k.bridges[0].kafka_topic, "orders.v2");
    EXPECT_EQ(k.bridges[0].partition, 2);
    EXPECT_EQ(k.bridges[0].write_format, "binary");
    EXPECT_EQ(k.bridges[0].wrap_type, "legacy.orderRecorded.v1");
    EXPECT_EQ(k.bridges[0].wrap_source, "/legacy");
    EXPECT_EQ(k.bridges[1].write_format, "structured");
    EXPECT_EQ(k.bridges[1].wrap_type, "kafka.recordReceived.v1");
    EXPECT_EQ(k.bridges[1].partition, 0);
}

TEST(EngineConfig, ErrorsNameTheKeyAndLine) {
    struct BadCase {
        const char* yaml;
        const char* key;
        const char* line;
        const char* says;
    };
    const BadCase cases[] = {
        {"engine:\n  kind: redis\n", "engine.kind", "line 2", "embedded, jetstream or kafka"},
        {"engine:\n  kind: kafka\n", "engine.kafka.brokers", "line 2", "at least one broker"},
        {"engine:\n  kafka:\n    brokers: [kafka://a:9092]\n", "engine.kafka.brokers", "line 3", "host:port"},
        {"engine:\n  kafka:\n    brokers: [a:9092]\n    create_topics: always\n", "engine.kafka.create_topics",
         "line 4", "admin or broker"},
        {"engine:\n  kafka:\n    brokers: [a:9092]\n    topic_prefix: \"a/b\"\n", "engine.kafka.topic_prefix",
         "line 4", "A-Z"},
        {"engine:\n  kafka:\n    brokers: [a:9092]\n    properties: {acks: \"1\"}\n", "engine.kafka.properties.acks",
         "line 4", "set by Herald"},
        {"engine:\n  kafka:\n    brokers: [a:9092]\n    bridges:\n      - topic: Orders\n        kafka_topic: o\n",
         "engine.kafka.bridges[0].topic", "line 5", "[a-z0-9]"},
        {"engine:\n  kafka:\n    brokers: [a:9092]\n    bridges:\n      - topic: orders\n",
         "engine.kafka.bridges[0]", "line 5", "needs topic and kafka_topic"},
        {"engine:\n  kafka:\n    brokers: [a:9092]\n    bridges:\n      - {topic: o, kafka_topic: x, write_format: avro}\n",
         "engine.kafka.bridges[0].write_format", "line 5", "structured or binary"},
        {"engine:\n  kafka:\n    brokers: [a:9092]\n    bridges:\n      - {topic: o, kafka_topic: x}\n      - {topic: o, kafka_topic: y}\n",
         "engine.kafka.bridges[1].topic", "line 6", "bridged twice"},
        {"engine:\n  kind: jetstream\n", "engine.jetstream.servers", "line 2", "at least one server"},
        {"engine:\n  kind: jetstream\n  jetstream:\n    servers: [http://x:4222]\n", "engine.jetstream.servers",
         "line 4", "nats://"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    stream_prefix: \"A.B\"\n",
         "engine.jetstream.stream_prefix", "line 4", "A-Z"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    subject_prefix: herald\n",
         "engine.jetstream.subject_prefix", "line 4", "ending with '.'"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    subject_prefix: \"a.*.\"\n",
         "engine.jetstream.subject_prefix", "line 4", "'*'"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    streams: one\n", "engine.jetstream.streams",
         "line 4", "per_topic"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    replicas: 7\n", "engine.jetstream.replicas",
         "line 4", "between"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    ack_timeout: 5s\n    publish_timeout: 1s\n",
         "engine.jetstream.publish_timeout", "line 3", "at least engine.jetstream.ack_timeout"},
        {"engine:\n  jetstream:\n    server: [nats://a:1]\n", "engine.jetstream.server", "line 3", "unknown key"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    lease_ttl: 10ms\n", "engine.jetstream.lease_ttl",
         "line 4", "at least"},
    };
    for (auto& bc : cases) {
        auto bad = parse_config(bc.yaml);
        ASSERT_FALSE(bad) << bc.yaml;
        EXPECT_EQ(bad.error().attribute, bc.key) << bc.yaml;
        EXPECT_NE(bad.error().message.find(bc.line), std::string::npos) << bad.error().message;
        EXPECT_NE(bad.error().message.find(bc.says), std::string::npos) << bad.error().message;
    }
}

}  // namespace
}  // namespace herald::config
