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
#include "base/units.hpp"
#include "config/proxy_settings.hpp"       // routes:, upstreams:
#include "config/rate_limit_settings.hpp"  // RateLimitSettings
#include "engine/engine.hpp"

namespace herald::config {

struct HttpLimits {
    std::size_t header_limit = 16 * 1024;
    std::size_t body_limit = 4 * 1024 * 1024;
    std::int64_t header_timeout_ms = 10'000;
    std::int64_t body_timeout_ms = 30'000;
    std::int64_t idle_timeout_ms = 60'000;
    std::size_t max_connections = 10'000;
    std::size_t max_connections_per_address = 0;  // 0: unlimited
};

// tls: and admin_tls: — TLS on the data-plane and the admin listener (docs/security.md "TLS"). Present in the
// file: both files are required; absent: the listener speaks plain HTTP. The files are read again on reload.
struct TlsSettings {
    std::string cert_file;            // PEM: the certificate, then its intermediates
    std::string key_file;             // PEM: its private key, unencrypted
    std::string min_version = "1.2";  // "1.2" | "1.3"

    bool enabled() const noexcept { return !cert_file.empty(); }
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
    // Negotiate permessage-deflate (RFC 7692) with clients that offer it. Off by default: docs/websocket.md says why.
    bool deflate = false;
};

struct TopicConfig {
    engine::TopicSettings settings;
    std::string default_type;  // type given to plain-JSON publishes without ?type=
    std::vector<std::string> accepted_types;  // globs; empty: every type
    bool allow_unknown_types = true;          // false: only types with a registered schema
};

// A naming rule as written in the config; empty pattern: the built-in default.
struct NamingRuleSettings {
    std::string pattern;
    std::string shape;
    std::string example;
};

struct SchemaFile {
    std::string type;
    std::string file;
};

struct SchemaSettings {
    bool enforce_naming = true;
    NamingRuleSettings event_type;
    NamingRuleSettings topic;
    std::string compatibility = "full";  // none | backward | forward | full
    std::vector<SchemaFile> files;       // registered at start (a new version only when the document changed)
};

struct CorsSettings {
    std::vector<std::string> allowed_origins;  // empty: same-origin only
    bool allow_credentials = false;
    std::int64_t max_age_ms = 600'000;
};

struct WebhookSettings {
    // Delay before each retry; the Standard Webhooks recommendation by default.
    std::vector<std::int64_t> retry_schedule_ms{5'000, 300'000, 1'800'000, 7'200'000, 18'000'000, 36'000'000,
                                                36'000'000};
    bool retry_jitter = true;
    std::int64_t disable_after_ms = 5ll * 24 * 3600 * 1000;  // a subscription failing this long is disabled
    std::int64_t timeout_ms = 10'000;                         // default per-delivery timeout
    std::int64_t rotation_overlap_ms = 24ll * 3600 * 1000;
    std::size_t max_subscriptions = 10'000;
    std::vector<std::string> allow_destinations;  // CIDRs exempt from the SSRF guard, e.g. 127.0.0.1/32
    std::string ca_file;                           // extra CA bundle for receivers' certificates
    std::string user_agent = "Herald-Webhooks/1";
    std::string handshake_origin = "herald";       // WebHook-Request-Origin for the validation handshake
    // Idle keep-alive connections kept per receiver origin. At least the number of deliveries in flight to one
    // origin (subscriptions × concurrency), or every burst pays new TCP (and TLS) handshakes.
    std::size_t max_idle_per_origin = 256;
};

// One verification key of a JWT issuer: exactly one of pem, pem_file, jwk (JSON text) or secret.
struct JwtKeySettings {
    std::string pem;
    std::string pem_file;
    std::string jwk;     // a JWK object, as JSON text
    std::string secret;  // an HMAC secret (raw text; at least 32 bytes)
    std::string kid;
    std::string alg;     // narrows the key to one algorithm
};

struct IssuerSettings {
    std::string issuer;  // compared exactly with `iss`; empty: tokens without `iss`
    std::vector<std::string> audiences;
    std::vector<JwtKeySettings> keys;
    std::string jwks_file;
    std::string jwks_url;  // fetched in the background, refreshed per Cache-Control (60 s .. 24 h)
    std::vector<std::string> algorithms;  // allowed `alg`s; empty: every algorithm the keys allow
    std::int64_t leeway_ms = 60'000;
    std::string scope_claim = "scope";
};

struct ApiKeySettings {
    std::string name;
    std::string key_sha256;  // hex SHA-256 of the key (preferred: the key itself never sits in a file)
    std::string key;         // or the key itself (development)
    std::vector<std::string> scopes;
};

struct AuthSettings {
    bool enabled = false;  // off: every request is an anonymous principal with every scope (a warning says so)
    // With auth on: what a request without credentials may do (e.g. subscribe:public.*); empty: 401.
    std::vector<std::string> anonymous_scopes;
    bool allow_query_token = false;  // ?access_token= on SSE and WebSocket endpoints (browsers)
    std::string cookie;              // name of a cookie carrying a token on SSE and WebSocket endpoints
    std::string realm = "herald";
    std::vector<IssuerSettings> issuers;
    std::vector<ApiKeySettings> api_keys;
    // The admin listener: this bearer token (or its SHA-256), or any principal with the `admin` scope.
    std::string admin_token;
    std::string admin_token_sha256;
};

struct RateLimits {
    RateLimitSettings requests;     // data-plane requests per principal (or client address)
    RateLimitSettings publish;      // published events per principal per topic
    RateLimitSettings subscribe;    // streams and subscriptions opened per principal per topic
    RateLimitSettings ws_messages;  // herald.v1 messages per principal
    std::size_t max_streams_per_principal = 0;  // open SSE streams + WebSocket subscriptions; 0: unlimited
};

// log: (docs/observability.md). Kept as validated text; the server turns it into the logger's types.
struct LogSettings {
    std::string level = "info";     // debug | info | warn | error; changeable at run time (PUT /admin/log/level)
    std::string format = "json";    // json | text
    std::string output = "stderr";  // stderr or a file path (appended to; POST /admin/log/reopen after rotation)
    bool access = true;             // one access line per HTTP exchange
    // Access lines are gathered and written together (log/sink.hpp BufferedSink); 0: each written at once.
    std::size_t access_buffer = 64 * 1024;
    std::int64_t access_flush_interval_ms = 1'000;  // the longest an access line waits
};

// tracing: W3C trace context is always accepted and propagated; spans are exported only with an endpoint.
struct TracingSettings {
    std::string otlp_endpoint;  // OTLP/HTTP collector base URL, e.g. http://127.0.0.1:4318; empty: no export
    std::string service_name = "herald";
    std::string protocol = "http/protobuf";  // or http/json (OTEL_EXPORTER_OTLP_PROTOCOL's names)
    double sample_ratio = 1.0;  // of new traces (a caller's sampled flag is followed)
    std::size_t batch_size = 512;
    std::size_t queue_size = 2048;
    std::int64_t flush_interval_ms = 5'000;
};

// The developer portal at /portal/ on the data plane (docs/portal.md). Static and public; what it shows comes
// from the data-plane API with the viewer's own credential.
struct PortalSettings {
    bool enabled = true;
};

// engine: where events are stored (docs/engines.md). The embedded log is the default; JetStream lets several
// Herald nodes share topics.
struct JetStreamSettings {
    std::vector<std::string> servers;  // nats:// or tls:// URLs
    std::string stream_prefix = "HERALD_";
    std::string subject_prefix = "herald.";
    std::string streams = "per_topic";  // per_topic | shared (every topic a subject of <stream_prefix>EVENTS)
    int replicas = 1;
    std::int64_t ack_timeout_ms = 2'000;
    std::int64_t publish_timeout_ms = 15'000;
    std::int64_t request_timeout_ms = 5'000;
    std::int64_t lease_ttl_ms = 5'000;  // the webhook dispatch lease: a dead holder is replaced after this
};
// A Herald topic over an existing Kafka topic (bridge mode).
struct KafkaBridgeSettings {
    std::string topic;        // the Herald topic
    std::string kafka_topic;  // the Kafka topic other services write and read
    int partition = 0;
    std::string write_format = "structured";  // structured | binary: how Herald writes events into it
    std::string wrap_type = "kafka.recordReceived.v1";  // records that are not CloudEvents become this type
    std::string wrap_source;                            // and this source (empty: "kafka:<kafka_topic>")
};
struct KafkaSettings {
    std::vector<std::string> brokers;  // host:port
    std::string topic_prefix = "herald.";
    int replication_factor = 1;
    std::string create_topics = "admin";  // admin (CreateTopics) | broker (auto.create.topics.enable)
    std::int64_t publish_timeout_ms = 15'000;
    std::int64_t request_timeout_ms = 5'000;
    std::int64_t linger_ms = 1;
    std::map<std::string, std::string> properties;  // more librdkafka properties
    std::vector<KafkaBridgeSettings> bridges;
    std::int64_t lease_ttl_ms = 10'000;  // the webhook dispatch lease (a consumer group's session timeout)
};
struct EngineSettings {
    std::string kind = "embedded";  // embedded | jetstream | kafka
    JetStreamSettings jetstream;
    KafkaSettings kafka;
};

struct Config {
    std::string listen = "127.0.0.1:8080";
    std::string admin_listen = "127.0.0.1:9180";
    TlsSettings tls;        // the data-plane listener
    TlsSettings admin_tls;  // the admin listener
    std::filesystem::path data_dir = "herald-data";
    EngineSettings engine;
    unsigned threads = 0;  // 0: one per core
    std::string event_source = "/herald";  // `source` of events Herald wraps from plain JSON
    HttpLimits http;
    SseSettings sse;
    WebSocketSettings websocket;
    CorsSettings cors;
    PortalSettings portal;
    WebhookSettings webhooks;
    LogSettings log;
    TracingSettings tracing;
    AuthSettings auth;
    SchemaSettings schemas;
    RateLimits rate_limits;
    bool auto_create_topics = true;
    TopicConfig topic_defaults;
    std::map<std::string, TopicConfig> topics;  // declared topics
    std::int64_t dedup_window_ms = 24ll * 3600 * 1000;
    std::size_t dedup_max_entries = 100'000;
    std::int64_t long_poll_max_ms = 30'000;
    std::size_t page_max_events = 1000;
    std::map<std::string, UpstreamSettings> upstreams;  // REST gateway (docs/gateway.md)
    std::vector<RouteSettings> routes;                  // in declaration order (ties in matching priority)
    std::string source_file;  // where it was loaded from; empty for the built-in default
};

// Parses YAML text (after ${ENV} substitution). `name` is used in messages.
Result<Config> parse_config(const std::string& text, const std::string& name = "herald.yaml");
Result<Config> load_config(const std::filesystem::path& path);

using herald::parse_bytes;        // base/units.hpp
using herald::parse_duration_ms;  // base/units.hpp
// One upstream or route given as a JSON object (the admin API), validated exactly as the same entry in
// herald.yaml; messages name `what` instead of a file. A route's upstream must be one of `upstreams`.
Result<UpstreamSettings> parse_upstream_entry(const std::string& name, const std::string& json,
                                              const std::string& what = "admin API");
Result<RouteSettings> parse_route_entry(const std::string& json, const std::map<std::string, UpstreamSettings>& upstreams,
                                        const std::string& what = "admin API");

// Replaces ${NAME} and ${NAME:-default}; an unset variable without default is an error.
Result<std::string> substitute_env(const std::string& text);

}  // namespace herald::config
