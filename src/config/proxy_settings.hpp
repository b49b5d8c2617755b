#pragma once
// The `upstreams:` and `routes:` sections of herald.yaml (docs/gateway.md): REST routes
// reverse-proxied to pools of upstream targets. Plain values as written in the file; the parser
// (proxy_config.cpp) has already checked syntax, ranges and cross-references (a route's upstream
// exists, a rewrite uses only captured parameters), each error naming the key path and line. The
// proxy module compiles these into its route table and upstream pools (proxy/route.hpp,
// proxy/upstream.hpp), which re-check what they rely on because specs may also come from elsewhere
// later (the admin API).
//
// Durations are milliseconds, like the rest of Config.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/rate_limit_settings.hpp"

namespace herald::config {

// --- routes -------------------------------------------------------------------------------------

enum class PathMatchKind : std::uint8_t {
    exact,      // `path: /health` — the whole path, nothing more
    templated,  // `path: /users/{id}` — a `path:` with parameters (base/path_template.hpp)
    prefix,     // `prefix: /api/` — the path, or anything below it at a segment boundary
};

struct HeaderMatchSettings {
    std::string name;
    std::optional<std::string> value;  // nullopt: the header only has to be present
};

// Header edits on the way to the upstream (request_headers) or back to the client
// (response_headers), applied in this order: remove, set, add.
struct HeaderRuleSettings {
    std::vector<std::string> remove;
    std::vector<std::pair<std::string, std::string>> set;  // replaces every value the header had
    std::vector<std::pair<std::string, std::string>> add;  // appended, even if the header exists
    bool empty() const noexcept { return remove.empty() && set.empty() && add.empty(); }
};

enum class RouteAuth : std::uint8_t {
    inherit,  // as the event endpoints: auth.enabled decides; auth.anonymous_scopes apply
    // a credential must be presented, even when anonymous callers have scopes (needs auth.enabled)
    required,
    none,  // public: no authentication, so no scopes can be required
};

// A route's access policy: the same authentication, scopes and token buckets as the event
// endpoints.
struct RoutePolicySettings {
    RouteAuth auth = RouteAuth::inherit;
    std::vector<std::string>
        scopes;  // Herald scopes (security/scopes.hpp); the principal needs all of them
    RateLimitSettings rate_limit;  // per principal (or client address) on this route; rate 0: off
    std::optional<std::uint64_t> body_limit;  // overrides http.body_limit for this route
};

struct TimeoutOverrides {
    std::optional<std::int64_t> connect_ms;
    std::optional<std::int64_t> read_ms;
    std::optional<std::int64_t> total_ms;
};

struct RetrySettings {
    std::uint32_t attempts = 2;  // retries after the first try; 0 disables retries
    std::int64_t per_try_timeout_ms =
        0;  // 0: each try is bounded only by the read and total timeouts
};

struct RouteSettings {
    std::string name;
    std::string description;  // for people: the catalog (OpenAPI) and the portal show it
    // What the route matches.
    std::vector<std::string>
        hosts;  // lower-case: "api.example.com" or "*.example.com"; empty: any host
    PathMatchKind path_kind = PathMatchKind::prefix;
    std::string path = "/";
    std::vector<std::string> methods;  // upper-case; empty: any method
    std::vector<HeaderMatchSettings> headers;
    // Where it goes and how.
    std::string upstream;
    std::string strip_prefix;  // removed from the front of the path (segment boundary); empty: none
    std::string rewrite_path;  // a template using the route's parameters; empty: no rewrite
    bool preserve_host =
        false;  // false: Host is the target's address (X-Forwarded-Host keeps the original)
    HeaderRuleSettings request_headers;
    HeaderRuleSettings response_headers;
    RoutePolicySettings policy;
    TimeoutOverrides timeouts;             // override the upstream's
    std::optional<RetrySettings> retries;  // overrides the upstream's attempts and per-try timeout
    std::string definition;                // the entry as JSON, as written (config dump, admin API)
};

// --- upstreams ----------------------------------------------------------------------------------

enum class BalancerKind : std::uint8_t { round_robin, least_request, consistent_hash };

enum class HashSource : std::uint8_t { none, header, cookie, client_address };

struct HashOnSettings {
    HashSource source = HashSource::none;
    std::string name;  // the header or cookie name
};

struct TargetSettings {
    std::string host;  // a name or an address; IPv6 without brackets
    std::uint16_t port = 0;
    std::uint32_t weight = 1;  // 1..1000
};

// Passive health (outlier detection): a target failing `consecutive_failures` times in a row is
// ejected for base_ejection × (number of recent ejections), at most max_ejection, then admitted
// again.
struct PassiveHealthSettings {
    std::uint32_t consecutive_failures = 5;  // 0 disables passive health
    std::int64_t base_ejection_ms = 30'000;
    std::int64_t max_ejection_ms = 300'000;
    std::uint32_t max_ejection_percent =
        50;  // of the pool; at least one target may always be ejected
};

// Active health checks: an HTTP GET of `path` on every target each interval.
struct ActiveHealthSettings {
    bool enabled = false;
    std::string path = "/";
    std::string host;  // Host header of the probe; empty: the target's address
    std::int64_t interval_ms = 10'000;
    std::int64_t timeout_ms = 2'000;
    std::uint32_t healthy_threshold =
        2;  // consecutive passes that make an unhealthy target healthy
    std::uint32_t unhealthy_threshold =
        3;  // consecutive failures that make a healthy target unhealthy
    std::uint16_t expected_status_min = 200;
    std::uint16_t expected_status_max = 399;
};

// Linkerd/Envoy-style retry budget shared by every request to the upstream: a retry may start while
// retries in flight stay under ratio × requests in flight, or while fewer than
// min_retries_per_second retries started in the current second (so a quiet upstream can still
// retry).
struct RetryBudgetSettings {
    double ratio = 0.2;
    std::uint32_t min_retries_per_second = 10;
};

struct UpstreamSettings {
    std::string name;
    std::vector<TargetSettings> targets;
    BalancerKind balancer = BalancerKind::round_robin;
    HashOnSettings hash_on;  // consistent_hash only
    bool tls = false;
    std::string tls_server_name;  // SNI and certificate name; empty: the target's host
    std::string ca_file;          // extra CA bundle; empty: the system's
    bool verify = true;           // false only for development: accepts any certificate
    std::int64_t connect_timeout_ms = 5'000;
    std::int64_t read_timeout_ms =
        30'000;  // waiting for the answer's head, and between body reads; 0: none
    std::int64_t total_timeout_ms =
        60'000;  // the whole exchange, retries included; 0: none (long streams)
    std::uint32_t max_idle_connections = 32;  // kept-alive connections per target
    std::int64_t idle_timeout_ms = 60'000;    // an idle kept-alive connection is closed after this
    RetrySettings retries;
    RetryBudgetSettings retry_budget;
    PassiveHealthSettings passive_health;
    ActiveHealthSettings health_check;
    std::string definition;  // the entry as JSON, as written (config dump, admin API)
};

}  // namespace herald::config
