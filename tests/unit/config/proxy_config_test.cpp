// The `upstreams:` and `routes:` sections of herald.yaml (src/config/proxy_config.cpp).
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace herald::config {
namespace {

constexpr const char* kGateway = R"(
auth:
  enabled: true
  api_keys:
    - {name: ci, key: secret-key-for-tests, scopes: ["subscribe:*"]}
upstreams:
  users:
    targets:
      - 10.0.0.1:8080
      - {address: "[2001:db8::2]:8080", weight: 3}
    balancer: consistent_hash
    hash_on: cookie:session
    tls: {server_name: users.internal, ca_file: /etc/ca.pem, verify: false}
    timeouts: {connect: 1s, read: 5s, total: 0}
    max_idle_connections: 8
    idle_timeout: 30s
    retries: {attempts: 3, per_try_timeout: 2s, budget: {ratio: 0.5, min_retries_per_second: 4}}
    passive_health: {consecutive_failures: 7, base_ejection: 10s, max_ejection: 2m, max_ejection_percent: 30}
    health_check: {path: /healthz, interval: 5s, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 4,
                   expected_status: 200-204}
  static:
    targets: [cdn.internal:80]
routes:
  - name: users
    match:
      hosts: [API.example.com, "*.example.org"]
      path: /api/users/{id}
      methods: [get, PUT]
      headers:
        - {name: X-Tenant, value: acme}
        - {name: X-Debug}
    upstream: users
    rewrite: {path: "/v2/users/{id}"}  # in flow style a template needs quotes
    preserve_host: true
    request_headers: {set: {X-Gateway: herald}, add: {Via: 1.1 herald}, remove: [Cookie]}
    response_headers: {remove: [Server]}
    policy:
      auth: required
      scopes: ["subscribe:users"]
      rate_limit: {rate: 5, burst: 10}
      body_limit: 1MiB
    timeouts: {read: 10s}
    retries: {attempts: 0}
  - name: assets
    match: {prefix: /static/}
    upstream: static
    rewrite: {strip_prefix: /static}
    policy: {auth: none}
)";

TEST(ProxyConfig, ParsesEveryKey) {
    auto c = parse_config(kGateway);
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_EQ(c->upstreams.size(), 2u);
    const auto& u = c->upstreams.at("users");
    EXPECT_EQ(u.name, "users");
    ASSERT_EQ(u.targets.size(), 2u);
    EXPECT_EQ(u.targets[0].host, "10.0.0.1");
    EXPECT_EQ(u.targets[0].port, 8080);
    EXPECT_EQ(u.targets[1].host, "2001:db8::2");
    EXPECT_EQ(u.targets[1].weight, 3u);
    EXPECT_EQ(u.balancer, BalancerKind::consistent_hash);
    EXPECT_EQ(u.hash_on.source, HashSource::cookie);
    EXPECT_EQ(u.hash_on.name, "session");
    EXPECT_TRUE(u.tls);
    EXPECT_EQ(u.tls_server_name, "users.internal");
    EXPECT_EQ(u.ca_file, "/etc/ca.pem");
    EXPECT_FALSE(u.verify);
    EXPECT_EQ(u.connect_timeout_ms, 1000);
    EXPECT_EQ(u.read_timeout_ms, 5000);
    EXPECT_EQ(u.total_timeout_ms, 0);
    EXPECT_EQ(u.max_idle_connections, 8u);
    EXPECT_EQ(u.idle_timeout_ms, 30'000);
    EXPECT_EQ(u.retries.attempts, 3u);
    EXPECT_EQ(u.retries.per_try_timeout_ms, 2000);
    EXPECT_DOUBLE_EQ(u.retry_budget.ratio, 0.5);
    EXPECT_EQ(u.retry_budget.min_retries_per_second, 4u);
    EXPECT_EQ(u.passive_health.consecutive_failures, 7u);
    EXPECT_EQ(u.passive_health.base_ejection_ms, 10'000);
    EXPECT_EQ(u.passive_health.max_ejection_ms, 120'000);
    EXPECT_EQ(u.passive_health.max_ejection_percent, 30u);
    EXPECT_TRUE(u.health_check.enabled);
    EXPECT_EQ(u.health_check.path, "/healthz");
    EXPECT_EQ(u.health_check.interval_ms, 5000);
    EXPECT_EQ(u.health_check.expected_status_min, 200);
    EXPECT_EQ(u.health_check.expected_status_max, 204);
    // Defaults.
    const auto& s = c->upstreams.at("static");
    EXPECT_FALSE(s.tls);
    EXPECT_EQ(s.balancer, BalancerKind::round_robin);
    EXPECT_FALSE(s.health_check.enabled);
    EXPECT_EQ(s.passive_health.consecutive_failures, 5u);

    ASSERT_EQ(c->routes.size(), 2u);
    const auto& r = c->routes[0];
    EXPECT_EQ(r.name, "users");
    EXPECT_EQ(r.hosts, (std::vector<std::string>{"api.example.com", "*.example.org"}));
    EXPECT_EQ(r.path_kind, PathMatchKind::templated);
    EXPECT_EQ(r.path, "/api/users/{id}");
    EXPECT_EQ(r.methods, (std::vector<std::string>{"GET", "PUT"}));
    ASSERT_EQ(r.headers.size(), 2u);
    EXPECT_EQ(*r.headers[0].value, "acme");
    EXPECT_FALSE(r.headers[1].value);
    EXPECT_EQ(r.rewrite_path, "/v2/users/{id}");
    EXPECT_TRUE(r.preserve_host);
    EXPECT_EQ(r.request_headers.set.at(0).second, "herald");
    EXPECT_EQ(r.request_headers.add.at(0).first, "Via");
    EXPECT_EQ(r.request_headers.remove, (std::vector<std::string>{"Cookie"}));
    EXPECT_EQ(r.response_headers.remove, (std::vector<std::string>{"Server"}));
    EXPECT_EQ(r.policy.auth, RouteAuth::required);
    EXPECT_EQ(r.policy.scopes, (std::vector<std::string>{"subscribe:users"}));
    EXPECT_DOUBLE_EQ(r.policy.rate_limit.rate, 5);
    EXPECT_EQ(r.policy.rate_limit.burst, 10u);
    EXPECT_EQ(*r.policy.body_limit, 1u << 20);
    EXPECT_EQ(*r.timeouts.read_ms, 10'000);
    EXPECT_FALSE(r.timeouts.connect_ms);
    ASSERT_TRUE(r.retries);
    EXPECT_EQ(r.retries->attempts, 0u);
    EXPECT_EQ(r.retries->per_try_timeout_ms, 2000);  // not overridden: the upstream's
    const auto& a = c->routes[1];
    EXPECT_EQ(a.path_kind, PathMatchKind::prefix);
    EXPECT_EQ(a.path, "/static/");
    EXPECT_EQ(a.strip_prefix, "/static");
    EXPECT_EQ(a.policy.auth, RouteAuth::none);
}

TEST(ProxyConfig, ExactPathsAndNoSections) {
    auto c = parse_config("upstreams:\n  u: {targets: [h:1]}\nroutes:\n  - {name: r, match: {path: /x}, upstream: u}\n");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->routes[0].path_kind, PathMatchKind::exact);
    auto none = parse_config("listen: 127.0.0.1:0\n");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->routes.empty());
    EXPECT_TRUE(none->upstreams.empty());
}

struct BadCase {
    const char* yaml;
    const char* key;
    const char* line;
    const char* says;
};

// A minimal valid prelude (lines 1-3), so that each case's line number is easy to read.
#define UP "upstreams:\n  u:\n    targets: [h:80]\n"
#define ROUTE(body) UP "routes:\n  - name: r\n    upstream: u\n" body

TEST(ProxyConfig, ErrorsNameTheKeyPathAndLine) {
    const BadCase cases[] = {
        // upstreams
        {"upstreams: [a]\n", "upstreams", "line 1", "mapping"},
        {"upstreams:\n  u:\n    balancer: round_robin\n", "upstreams.u", "line 3", "needs targets"},
        {"upstreams:\n  u:\n    targets: []\n", "upstreams.u.targets", "line 3", "1 to 1000 targets"},
        {"upstreams:\n  u:\n    targets: [h]\n", "upstreams.u.targets[0]", "line 3", "port is required"},
        {"upstreams:\n  u:\n    targets: [h:0]\n", "upstreams.u.targets[0]", "line 3", "between 1 and 65535"},
        {"upstreams:\n  u:\n    targets: [\"2001:db8::1:80\"]\n", "upstreams.u.targets[0]", "line 3", "brackets"},
        {"upstreams:\n  u:\n    targets:\n      - {address: h:1, weight: 0}\n", "upstreams.u.targets[0].weight",
         "line 4", "between 1 and 1000"},
        {"upstreams:\n  u:\n    targets: [h:1, H:1]\n", "upstreams.u.targets[1]", "line 3", "twice"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    balancer: random\n", "upstreams.u.balancer", "line 4",
         "round_robin, least_request or consistent_hash"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    balancer: consistent_hash\n", "upstreams.u.balancer", "line 4",
         "needs hash_on"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    hash_on: header:X-User\n", "upstreams.u.hash_on", "line 4",
         "only the consistent_hash"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    balancer: consistent_hash\n    hash_on: body\n",
         "upstreams.u.hash_on", "line 5", "header:NAME, cookie:NAME or client_address"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    tls: maybe\n", "upstreams.u.tls", "line 4", "true or false"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    tls: {sni: x}\n", "upstreams.u.tls.sni", "line 4", "unknown key"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    timeouts: {connect: soon}\n", "upstreams.u.timeouts.connect",
         "line 4", "duration"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    retries: {attempts: 11}\n", "upstreams.u.retries.attempts",
         "line 4", "between 0 and 10"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    retries:\n      budget: {ratio: 1.5}\n",
         "upstreams.u.retries.budget.ratio", "line 5", "between 0 and 1"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    passive_health:\n      max_ejection_percent: 101\n",
         "upstreams.u.passive_health.max_ejection_percent", "line 5", "between 0 and 100"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    passive_health: {base_ejection: 1m, max_ejection: 10s}\n",
         "upstreams.u.passive_health.max_ejection", "line 4", "at least base_ejection"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    health_check:\n      expected_status: 2xx\n",
         "upstreams.u.health_check.expected_status", "line 5", "range such as 200-399"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    health_check:\n      path: healthz\n",
         "upstreams.u.health_check.path", "line 5", "such as /healthz"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    health_check: {interval: 1s, timeout: 2s}\n",
         "upstreams.u.health_check.timeout", "line 4", "shorter than the interval"},
        {"upstreams:\n  \"bad name\":\n    targets: [h:1]\n", "upstreams.bad name", "line 2", "letters, digits"},
        {"upstreams:\n  u:\n    targets: [h:1]\n    keepalive: 3\n", "upstreams.u.keepalive", "line 4",
         "unknown key"},
        // routes
        {UP "routes: {name: r}\n", "routes", "line 4", "list of routes"},
        {UP "routes:\n  - upstream: u\n", "routes[0]", "line 5", "needs a name"},
        {UP "routes:\n  - name: r\n    match: {path: /x}\n", "routes[0]", "line 5", "needs an upstream"},
        {UP "routes:\n  - name: r\n    upstream: u\n", "routes[0]", "line 5", "needs match"},
        {ROUTE("    match: {path: /x}\n  - name: r\n    upstream: u\n    match: {path: /y}\n"), "routes[1].name",
         "line 8", "used twice"},
        {UP "routes:\n  - name: r\n    match: {path: /x}\n    upstream: nowhere\n", "routes[0].upstream", "line 7",
         "no upstream named \"nowhere\" (declared: u)"},
        {ROUTE("    match: {hosts: [api.example.com]}\n"), "routes[0].match", "line 7", "a path or a prefix"},
        {ROUTE("    match: {path: /x, prefix: /y/}\n"), "routes[0].match.prefix", "line 7", "not both"},
        {ROUTE("    match:\n      path: /users/{id\n"), "routes[0].match.path", "line 8", "whole segment"},
        {ROUTE("    match:\n      path: /a/{x}/{x}\n"), "routes[0].match.path", "line 8", "appears twice"},
        {ROUTE("    match:\n      path: /files/{name}.json\n"), "routes[0].match.path", "line 8", "whole segment"},
        {ROUTE("    match:\n      path: users\n"), "routes[0].match.path", "line 8", "must start with '/'"},
        {ROUTE("    match:\n      prefix: /users/{id}/\n"), "routes[0].match.prefix", "line 8",
         "cannot have {parameters}"},
        {ROUTE("    match:\n      path: /x\n      hosts: [\"api.example.com:8443\"]\n"), "routes[0].match.hosts[0]",
         "line 9", "without the port"},
        {ROUTE("    match:\n      path: /x\n      hosts: [\"*\"]\n"), "routes[0].match.hosts[0]", "line 9",
         "leave hosts out"},
        {ROUTE("    match:\n      path: /x\n      hosts: [\"a.*.com\"]\n"), "routes[0].match.hosts[0]", "line 9",
         "expected a host name"},
        {ROUTE("    match:\n      path: /x\n      methods: [\"GE T\"]\n"), "routes[0].match.methods[0]", "line 9",
         "not an HTTP method"},
        {ROUTE("    match:\n      path: /x\n      headers:\n        - {value: x}\n"), "routes[0].match.headers[0]",
         "line 10", "needs a name"},
        {ROUTE("    match: {path: \"/users/{id}\"}\n    rewrite:\n      path: /v2/{user}\n"), "routes[0].rewrite.path",
         "line 9", "{user} is not a parameter"},
        {ROUTE("    match: {prefix: /api/}\n    rewrite:\n      strip_prefix: /other\n"),
         "routes[0].rewrite.strip_prefix", "line 9", "not a leading part of the route's prefix /api/"},
        {ROUTE("    match: {prefix: /api/}\n    rewrite:\n      strip_prefix: /api/\n"),
         "routes[0].rewrite.strip_prefix", "line 9", "without a trailing '/'"},
        {ROUTE("    match: {prefix: /api/}\n    rewrite:\n      strip_prefix: /api\n      path: /v2\n"),
         "routes[0].rewrite.path", "line 10", "not both"},
        {ROUTE("    match: {path: /x}\n    request_headers:\n      set: {\"Bad Name\": x}\n"),
         "routes[0].request_headers.set.Bad Name", "line 9", "not a valid header name"},
        {ROUTE("    match: {path: /x}\n    request_headers:\n      add: {Connection: close}\n"),
         "routes[0].request_headers.add.Connection", "line 9", "hop-by-hop"},
        {ROUTE("    match: {path: /x}\n    response_headers:\n      remove: [ok, \"no good\"]\n"),
         "routes[0].response_headers.remove[1]", "line 9", "not a valid header name"},
        {ROUTE("    match: {path: /x}\n    policy:\n      auth: maybe\n"), "routes[0].policy.auth", "line 9",
         "inherit, required or none"},
        {ROUTE("    match: {path: /x}\n    policy:\n      auth: required\n"), "routes[0].policy.auth", "line 9",
         "needs auth.enabled"},
        {ROUTE("    match: {path: /x}\n    policy:\n      scopes: [\"read:users\"]\n"), "routes[0].policy.scopes[0]",
         "line 9", "is not a scope"},
        {ROUTE("    match: {path: /x}\n    policy:\n      auth: none\n      scopes: [admin]\n"),
         "routes[0].policy.scopes", "line 10", "auth: none cannot require scopes"},
        {ROUTE("    match: {path: /x}\n    policy:\n      rate_limit: {rate: -1}\n"),
         "routes[0].policy.rate_limit.rate", "line 9", "per second"},
        {ROUTE("    match: {path: /x}\n    policy:\n      body_limit: big\n"), "routes[0].policy.body_limit",
         "line 9", "size"},
        {ROUTE("    match: {path: /x}\n    retries:\n      budget: {ratio: 0.1}\n"), "routes[0].retries.budget",
         "line 9", "unknown key"},
        {ROUTE("    match: {path: /x}\n    timeouts:\n      connect: 0\n"), "routes[0].timeouts.connect", "line 9",
         "at least 1ms"},
        {ROUTE("    match: {path: /x}\n    preserve_host: sometimes\n"), "routes[0].preserve_host", "line 8",
         "true or false"},
        {ROUTE("    match: {path: /x}\n    proxy_pass: http://x\n"), "routes[0].proxy_pass", "line 8",
         "unknown key"},
    };
    for (auto& bc : cases) {
        auto c = parse_config(bc.yaml);
        ASSERT_FALSE(c) << bc.yaml;
        EXPECT_EQ(c.error().attribute, bc.key) << bc.yaml << "\n" << c.error().message;
        EXPECT_NE(c.error().message.find(bc.line), std::string::npos) << bc.yaml << "\n" << c.error().message;
        EXPECT_NE(c.error().message.find(bc.says), std::string::npos) << bc.yaml << "\n" << c.error().message;
    }
}

#undef ROUTE
#undef UP

}  // namespace
}  // namespace herald::config
