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
}

TEST(EngineConfig, JetStreamEveryKey) {
    auto c = parse_config(R"(engine:
  kind: jetstream
  jetstream:
    servers: [nats://127.0.0.1:4222, "tls://nats-2.internal:4222"]
    stream_prefix: EVENTS_
    subject_prefix: acme.events.
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
    EXPECT_EQ(j.replicas, 3);
    EXPECT_EQ(j.ack_timeout_ms, 500);
    EXPECT_EQ(j.publish_timeout_ms, 20'000);
    EXPECT_EQ(j.request_timeout_ms, 2'000);
    EXPECT_EQ(j.lease_ttl_ms, 3'000);
}

TEST(EngineConfig, ErrorsNameTheKeyAndLine) {
    struct BadCase {
        const char* yaml;
        const char* key;
        const char* line;
        const char* says;
    };
    const BadCase cases[] = {
        {"engine:\n  kind: kafka\n", "engine.kind", "line 2", "embedded or jetstream"},
        {"engine:\n  kind: jetstream\n", "engine.jetstream.servers", "line 2", "at least one server"},
        {"engine:\n  kind: jetstream\n  jetstream:\n    servers: [http://x:4222]\n", "engine.jetstream.servers",
         "line 4", "nats://"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    stream_prefix: \"A.B\"\n",
         "engine.jetstream.stream_prefix", "line 4", "A-Z"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    subject_prefix: herald\n",
         "engine.jetstream.subject_prefix", "line 4", "ending with '.'"},
        {"engine:\n  jetstream:\n    servers: [nats://a:1]\n    subject_prefix: \"a.*.\"\n",
         "engine.jetstream.subject_prefix", "line 4", "'*'"},
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
