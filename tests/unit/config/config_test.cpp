#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace herald::config {
namespace {

TEST(Config, EmptyFileIsTheEmbeddedDefault) {
    auto c = parse_config("");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->listen, "127.0.0.1:8080");
    EXPECT_EQ(c->admin_listen, "127.0.0.1:9180");
    EXPECT_TRUE(c->auto_create_topics);
    EXPECT_EQ(c->topic_defaults.settings.fsync, engine::FsyncPolicy::interval);
    EXPECT_EQ(c->topic_defaults.settings.fsync_interval_ms, 100);
}

TEST(Config, ParsesEveryKey) {
    auto c = parse_config(R"(
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
data_dir: /tmp/x
threads: 3
event_source: //gateway
long_poll_max_wait: 20s
page_max_events: 500
http:
  header_limit: 8KiB
  body_limit: 2MiB
  header_timeout: 5s
  body_timeout: 10s
  idle_timeout: 1m
  max_connections: 100
sse:
  heartbeat: 10s
  retry: 2s
  high_water_bytes: 128KiB
dedup:
  window: 1h
  max_entries: 5000
topics:
  auto_create: false
  defaults:
    fsync: never
  declared:
    - name: orders
      fsync: always
      segment_bytes: 1MiB
      retention: { max_age: 7d, max_bytes: 1GiB }
      default_type: shop.orderPlaced.v1
    - name: audit
)");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->threads, 3u);
    EXPECT_EQ(c->http.header_limit, 8192u);
    EXPECT_EQ(c->http.body_limit, 2u << 20);
    EXPECT_EQ(c->http.idle_timeout_ms, 60'000);
    EXPECT_EQ(c->sse.high_water_bytes, 128u * 1024);
    EXPECT_EQ(c->dedup_window_ms, 3'600'000);
    EXPECT_EQ(c->long_poll_max_ms, 20'000);
    EXPECT_FALSE(c->auto_create_topics);
    ASSERT_EQ(c->topics.size(), 2u);
    auto& orders = c->topics.at("orders");
    EXPECT_EQ(orders.settings.fsync, engine::FsyncPolicy::always);
    EXPECT_EQ(orders.settings.segment_bytes, 1u << 20);
    EXPECT_EQ(*orders.settings.retention_ms, 7ll * 86'400'000);
    EXPECT_EQ(*orders.settings.retention_bytes, 1ull << 30);
    EXPECT_EQ(orders.default_type, "shop.orderPlaced.v1");
    // A declared topic without settings inherits the defaults.
    EXPECT_EQ(c->topics.at("audit").settings.fsync, engine::FsyncPolicy::never);
}

struct BadCase {
    const char* yaml;
    const char* key;
    const char* line;
    const char* says;
};

TEST(Config, ErrorsNameTheKeyPathAndLine) {
    const BadCase cases[] = {
        {"listne: 1", "listne", "line 1", "unknown key"},
        {"http:\n  body_limit: lots\n", "http.body_limit", "line 2", "size"},
        {"sse:\n  heartbeat: 5 parsecs\n", "sse.heartbeat", "line 2", "duration"},
        {"threads: -1\n", "threads", "line 1", "whole number"},
        {"threads: 1000\n", "threads", "line 1", "between"},
        {"topics:\n  auto_create: maybe\n", "topics.auto_create", "line 2", "true or false"},
        {"topics:\n  declared:\n    - name: ok\n    - name: Not_OK\n", "topics.declared[1].name", "line 4",
         "must match"},
        {"topics:\n  declared:\n    - name: a\n      fsync: sometimes\n", "topics.declared[0].fsync", "line 4",
         "always, interval or never"},
        {"topics:\n  declared:\n    - name: a\n    - name: a\n", "topics.declared[1].name", "line 4", "twice"},
        {"topics:\n  declared:\n    - fsync: always\n", "topics.declared[0]", "line 3", "needs a name"},
        {"topics:\n  defaults:\n    retention:\n      max_age: 10ms\n", "topics.defaults.retention.max_age",
         "line 4", "at least"},
        {"http: [1, 2]\n", "http", "line 1", "mapping"},
    };
    for (auto& bc : cases) {
        auto c = parse_config(bc.yaml);
        ASSERT_FALSE(c) << bc.yaml;
        EXPECT_EQ(c.error().attribute, bc.key) << bc.yaml;
        EXPECT_NE(c.error().message.find(bc.line), std::string::npos) << c.error().message;
        EXPECT_NE(c.error().message.find(bc.says), std::string::npos) << c.error().message;
    }
}

TEST(Config, YamlSyntaxErrorsHaveALine) {
    auto c = parse_config("listen: 1\nhttp:\n  - [unclosed\n");
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("line"), std::string::npos);
}

TEST(Config, EnvironmentSubstitution) {
    ::setenv("HERALD_TEST_PORT", "9999", 1);
    ::unsetenv("HERALD_TEST_UNSET");
    auto c = parse_config("listen: 127.0.0.1:${HERALD_TEST_PORT}\ndata_dir: ${HERALD_TEST_UNSET:-/var/herald}\n");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->listen, "127.0.0.1:9999");
    EXPECT_EQ(c->data_dir, "/var/herald");
    auto missing = parse_config("listen: ${HERALD_TEST_UNSET}\n");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("HERALD_TEST_UNSET"), std::string::npos);
    EXPECT_FALSE(substitute_env("${UNTERMINATED"));
}

TEST(Config, DurationsAndSizes) {
    EXPECT_EQ(*parse_duration_ms("250"), 250);
    EXPECT_EQ(*parse_duration_ms("250ms"), 250);
    EXPECT_EQ(*parse_duration_ms("2s"), 2000);
    EXPECT_EQ(*parse_duration_ms("3m"), 180'000);
    EXPECT_EQ(*parse_duration_ms("1d"), 86'400'000);
    EXPECT_FALSE(parse_duration_ms("1w"));
    EXPECT_FALSE(parse_duration_ms("ms"));
    EXPECT_EQ(*parse_bytes("64MiB"), 64ull << 20);
    EXPECT_EQ(*parse_bytes("10MB"), 10'000'000ull);
    EXPECT_EQ(*parse_bytes("12"), 12ull);
    EXPECT_FALSE(parse_bytes("12 MiB"));
    EXPECT_FALSE(parse_bytes("-1"));
}

TEST(Config, WebSocketDeflate) {
    EXPECT_FALSE(parse_config("")->websocket.deflate);  // off by default (docs/websocket.md)
    auto off = parse_config("websocket:\n  deflate: true\n");
    ASSERT_TRUE(off) << off.error().message;
    EXPECT_TRUE(off->websocket.deflate);
    auto bad = parse_config("websocket:\n  deflate: sometimes\n");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().attribute, "websocket.deflate");
    EXPECT_NE(bad.error().message.find("true or false"), std::string::npos) << bad.error().message;
}

TEST(Config, TlsBlocks) {
    auto none = parse_config("");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->tls.enabled());
    EXPECT_FALSE(none->admin_tls.enabled());

    auto c = parse_config(R"(
tls:
  cert_file: /etc/herald/cert.pem
  key_file: /etc/herald/key.pem
admin_tls: {cert_file: admin.pem, key_file: admin.key, min_version: "1.3"}
)");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_TRUE(c->tls.enabled());
    EXPECT_EQ(c->tls.cert_file, "/etc/herald/cert.pem");
    EXPECT_EQ(c->tls.key_file, "/etc/herald/key.pem");
    EXPECT_EQ(c->tls.min_version, "1.2");  // the default
    EXPECT_EQ(c->admin_tls.min_version, "1.3");
    auto unquoted = parse_config("tls: {cert_file: c, key_file: k, min_version: 1.3}\n");
    ASSERT_TRUE(unquoted) << unquoted.error().message;
    EXPECT_EQ(unquoted->tls.min_version, "1.3");

    const BadCase cases[] = {
        {"tls:\n  key_file: k\n", "tls.cert_file", "line 2", "required"},
        {"admin_tls:\n  cert_file: c\n", "admin_tls.key_file", "line 2", "required"},
        {"tls:\n  cert_file: c\n  key_file: k\n  min_version: 1.1\n", "tls.min_version", "line 4",
         "not supported"},
        {"tls:\n  cert_file: c\n  key_file: k\n  min_version: \"1.0\"\n", "tls.min_version", "line 4",
         "not supported"},
        {"tls:\n  cert_file: c\n  key_file: k\n  min_version: tls13\n", "tls.min_version", "line 4",
         "expected 1.2 or 1.3"},
        {"tls:\n  cert_file: c\n  key_file: k\n  ciphers: ALL\n", "tls.ciphers", "line 4", "unknown key"},
        {"tls: on\n", "tls", "line 1", "mapping"},
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
