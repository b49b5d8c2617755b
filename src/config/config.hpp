#pragma once
// herald.yaml: the one declarative configuration file (DESIGN.md §7), its defaults, and the command-line flags
// that override it. Loading validates every key: an unknown key, a wrong type or an out-of-range value is an
// error naming the key path and the line ("topics.declared[0].fsync (line 12): expected always, interval or
// never"). `${ENV}` and `${ENV:-default}` in values are substituted before parsing.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "engine/engine.hpp"

namespace herald::config {

struct HttpLimits {
    std::size_t header_limit = 16 * 1024;
    std::size_t body_limit = 4 * 1024 * 1024;
    std::int64_t header_timeout_ms = 10'000;
    std::int64_t body_timeout_ms = 30'000;
    std::int64_t idle_timeout_ms = 60'000;
    std::size_t max_connections = 10'000;
};

struct SseSettings {
    std::int64_t heartbeat_ms = 15'000;
    std::int64_t retry_ms = 3'000;
    std::size_t high_water_bytes = 256 * 1024;
};

struct WebSocketSettings {
    std::int64_t ping_interval_ms = 30'000;
    std::int64_t pong_timeout_ms = 10'000;
    std::size_t max_frame_bytes = 1 << 20;
    std::size_t max_message_bytes = 1 << 20;
    std::size_t max_subscriptions = 100;
    std::size_t max_inflight_publishes = 64;
    std::uint64_t publish_rate = 0;  // messages per second per connection; 0 = unlimited
    std::uint64_t publish_burst = 100;
    std::size_t high_water_bytes = 256 * 1024;
};

struct TopicConfig {
    engine::TopicSettings settings;
    std::string default_type;  // type given to plain-JSON publishes without ?type=
};

struct CorsSettings {
    std::vector<std::string> allowed_origins;  // empty: same-origin only
    bool allow_credentials = false;
    std::int64_t max_age_ms = 600'000;
};

struct Config {
    std::string listen = "127.0.0.1:8080";
    std::string admin_listen = "127.0.0.1:9180";
    std::filesystem::path data_dir = "herald-data";
    unsigned threads = 0;  // 0: one per core
    std::string event_source = "/herald";  // `source` of events Herald wraps from plain JSON
    HttpLimits http;
    SseSettings sse;
    WebSocketSettings websocket;
    CorsSettings cors;
    bool auto_create_topics = true;
    TopicConfig topic_defaults;
    std::map<std::string, TopicConfig> topics;  // declared topics
    std::int64_t dedup_window_ms = 24ll * 3600 * 1000;
    std::size_t dedup_max_entries = 100'000;
    std::int64_t long_poll_max_ms = 30'000;
    std::size_t page_max_events = 1000;
    std::string source_file;  // where it was loaded from; empty for the built-in default
};

// Parses YAML text (after ${ENV} substitution). `name` is used in messages.
Result<Config> parse_config(const std::string& text, const std::string& name = "herald.yaml");
Result<Config> load_config(const std::filesystem::path& path);

// "100ms", "15s", "5m", "24h", "7d", or a bare number of milliseconds.
Result<std::int64_t> parse_duration_ms(const std::string& text);
// "64MiB", "512KiB", "1GiB", "10MB", or a bare number of bytes.
Result<std::uint64_t> parse_bytes(const std::string& text);
// Replaces ${NAME} and ${NAME:-default}; an unset variable without default is an error.
Result<std::string> substitute_env(const std::string& text);

}  // namespace herald::config
