// log: and tracing: (docs/observability.md).
#include "config/config.hpp"

#include <gtest/gtest.h>

namespace herald::config {
namespace {

TEST(ObservabilityConfig, Defaults) {
    auto c = parse_config("");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->log.level, "info");
    EXPECT_EQ(c->log.format, "json");
    EXPECT_EQ(c->log.output, "stderr");
    EXPECT_TRUE(c->log.access);
    EXPECT_EQ(c->log.access_buffer, 64u * 1024);
    EXPECT_EQ(c->log.access_flush_interval_ms, 1000);
    EXPECT_TRUE(c->tracing.otlp_endpoint.empty());  // no export unless asked for
    EXPECT_EQ(c->tracing.service_name, "herald");
    EXPECT_EQ(c->tracing.protocol, "http/protobuf");  // OTLP/HTTP's default encoding
    EXPECT_DOUBLE_EQ(c->tracing.sample_ratio, 1.0);
    EXPECT_EQ(c->tracing.batch_size, 512u);
    EXPECT_EQ(c->tracing.queue_size, 2048u);
    EXPECT_EQ(c->tracing.flush_interval_ms, 5000);
}

TEST(ObservabilityConfig, ParsesEveryKey) {
    auto c = parse_config(R"(
log:
  level: debug
  format: text
  output: /var/log/herald.log
  access: false
  access_buffer: 0
  access_flush_interval: 250ms
tracing:
  otlp_endpoint: http://127.0.0.1:4318
  service_name: gateway-eu
  protocol: http/json
  sample_ratio: 0.25
  batch_size: 100
  queue_size: 1000
  flush_interval: 250ms
)");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->log.level, "debug");
    EXPECT_EQ(c->log.format, "text");
    EXPECT_EQ(c->log.output, "/var/log/herald.log");
    EXPECT_FALSE(c->log.access);
    EXPECT_EQ(c->log.access_buffer, 0u);
    EXPECT_EQ(c->log.access_flush_interval_ms, 250);
    EXPECT_EQ(c->tracing.otlp_endpoint, "http://127.0.0.1:4318");
    EXPECT_EQ(c->tracing.service_name, "gateway-eu");
    EXPECT_EQ(c->tracing.protocol, "http/json");
    EXPECT_DOUBLE_EQ(c->tracing.sample_ratio, 0.25);
    EXPECT_EQ(c->tracing.batch_size, 100u);
    EXPECT_EQ(c->tracing.queue_size, 1000u);
    EXPECT_EQ(c->tracing.flush_interval_ms, 250);
}

TEST(ObservabilityConfig, ErrorsNameTheKeyAndLine) {
    struct Case {
        const char* yaml;
        const char* key;
    };
    const Case cases[] = {
        {"log:\n  level: verbose\n", "log.level"},
        {"log:\n  format: xml\n", "log.format"},
        {"log:\n  access: maybe\n", "log.access"},
        {"log:\n  colour: true\n", "log.colour"},
        {"log:\n  access_buffer: 32MiB\n", "log.access_buffer"},
        {"log:\n  access_flush_interval: 0s\n", "log.access_flush_interval"},
        {"log:\n  access_flush_interval: 2m\n", "log.access_flush_interval"},
        {"tracing:\n  otlp_endpoint: grpc://collector:4317\n", "tracing.otlp_endpoint"},
        {"tracing:\n  sample_ratio: 1.5\n", "tracing.sample_ratio"},
        {"tracing:\n  protocol: grpc\n", "tracing.protocol"},
        {"tracing:\n  batch_size: 0\n", "tracing.batch_size"},
        {"tracing:\n  batch_size: 100\n  queue_size: 10\n", "tracing.queue_size"},
        {"tracing:\n  flush_interval: 1ms\n", "tracing.flush_interval"},
        {"tracing:\n  endpoint: http://x\n", "tracing.endpoint"},
    };
    for (auto& k : cases) {
        auto c = parse_config(k.yaml);
        ASSERT_FALSE(c) << k.yaml;
        EXPECT_EQ(c.error().attribute, k.key) << c.error().message;
        EXPECT_NE(c.error().message.find("line"), std::string::npos) << c.error().message;
    }
}

}  // namespace
}  // namespace herald::config
