#include "proxy/forwarding.hpp"

#include <gtest/gtest.h>

#include "trace/ids.hpp"

namespace herald::proxy {
namespace {

using config::PathMatchKind;

std::vector<std::string> values(const http::HeaderList& h, std::string_view name) {
    std::vector<std::string> out;
    for (auto& [n, v] : h)
        if (http::iequals(n, name)) out.push_back(v);
    return out;
}

std::string value(const http::HeaderList& h, std::string_view name) {
    auto v = values(h, name);
    EXPECT_LE(v.size(), 1u) << name;
    return v.empty() ? std::string("<absent>") : v.front();
}

TEST(HopByHop, RemovesFixedAndNominatedHeaders) {
    http::HeaderList h = {
        {"Connection", "keep-alive, X-Secret-Hop"},
        {"Keep-Alive", "timeout=5"},
        {"X-Secret-Hop", "1"},
        {"Proxy-Authorization", "Basic x"},
        {"Proxy-Connection", "close"},
        {"TE", "trailers"},
        {"Trailer", "Expires"},
        {"Transfer-Encoding", "chunked"},
        {"Upgrade", "h2c"},
        {"Accept", "application/json"},
        {"connection", "X-Other"},
        {"x-other", "2"},
    };
    remove_hop_by_hop(h, true);  // not a WebSocket upgrade: Upgrade goes too
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].first, "Accept");
}

TEST(HopByHop, KeepsAWebSocketUpgrade) {
    http::HeaderList h = {{"Connection", "keep-alive, Upgrade"},
                          {"Upgrade", "websocket"},
                          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                          {"Keep-Alive", "1"}};
    EXPECT_TRUE(is_websocket_upgrade(h));
    remove_hop_by_hop(h, true);
    EXPECT_EQ(value(h, "Upgrade"), "websocket");
    EXPECT_EQ(value(h, "Connection"), "Upgrade");
    EXPECT_EQ(value(h, "Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_EQ(value(h, "Keep-Alive"), "<absent>");
    http::HeaderList plain = {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}};
    remove_hop_by_hop(plain, false);
    EXPECT_TRUE(plain.empty());
}

TEST(ForwardingHeaders, XForwardedForAppendsAndForwardedQuotesIpv6) {
    http::HeaderList h = {{"X-Forwarded-For", "198.51.100.1"},
                          {"x-forwarded-for", "198.51.100.2"},
                          {"X-Forwarded-Proto", "ftp"},
                          {"Forwarded", "for=198.51.100.1"}};
    add_forwarding_headers(h, {"2001:db8::7", "https", "api.example.com:8443", ""});
    EXPECT_EQ(value(h, "X-Forwarded-For"), "198.51.100.1, 198.51.100.2, 2001:db8::7");
    EXPECT_EQ(value(h, "X-Forwarded-Proto"), "https");
    EXPECT_EQ(value(h, "X-Forwarded-Host"), "api.example.com:8443");
    EXPECT_EQ(value(h, "Forwarded"),
              "for=198.51.100.1, for=\"[2001:db8::7]\";host=\"api.example.com:8443\";proto=https");

    http::HeaderList fresh;
    add_forwarding_headers(fresh, {"203.0.113.9", "http", "example.com", "gw-1"});
    EXPECT_EQ(value(fresh, "X-Forwarded-For"), "203.0.113.9");
    EXPECT_EQ(value(fresh, "Forwarded"), "for=203.0.113.9;host=example.com;proto=http;by=gw-1");
}

TEST(ForwardingHeaders, ForwardedValues) {
    EXPECT_EQ(forwarded_node(""), "unknown");
    EXPECT_EQ(forwarded_node("192.0.2.60"), "192.0.2.60");
    EXPECT_EQ(forwarded_node("::1"), "\"[::1]\"");
    EXPECT_EQ(forwarded_node("[::1]"), "\"[::1]\"");
    EXPECT_EQ(forwarded_value("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(forwarded_value("example.com"), "example.com");
}

TEST(RequestId, KeptWhenValidElseGenerated) {
    http::HeaderList h = {{"X-Request-Id", "abc-123_DEF.4"}};
    EXPECT_EQ(ensure_request_id(h), "abc-123_DEF.4");
    EXPECT_EQ(value(h, "X-Request-Id"), "abc-123_DEF.4");

    http::HeaderList bad = {{"X-Request-Id", "has space"}, {"x-request-id", std::string(200, 'a')}};
    auto id = ensure_request_id(bad);
    EXPECT_EQ(id.size(), 36u);  // a UUIDv7
    EXPECT_EQ(id[14], '7');
    EXPECT_EQ(value(bad, "X-Request-Id"), id);

    http::HeaderList none;
    EXPECT_EQ(ensure_request_id(none, "given"), "given");
    EXPECT_FALSE(is_valid_request_id(""));
    EXPECT_FALSE(is_valid_request_id("a\r\nb"));
    EXPECT_TRUE(is_valid_request_id("0a1b:c/d+e=f@g~h"));
}

TEST(TraceContext, ValidKeptInvalidRegenerated) {
    const std::string valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    http::HeaderList h = {{"traceparent", valid}, {"tracestate", "congo=t61rcWkgMzE,bad key=1"}};
    auto ctx = propagate_trace(h, nullptr, {});
    EXPECT_EQ(value(h, "traceparent"), valid);
    EXPECT_EQ(value(h, "tracestate"), "congo=t61rcWkgMzE");  // invalid members dropped
    EXPECT_TRUE(ctx.sampled());

    for (const char* broken :
         {"00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace-id
          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent-id
          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
          "garbage"}) {
        http::HeaderList b = {{"traceparent", broken}, {"tracestate", "congo=t61rcWkgMzE"}};
        auto fresh = propagate_trace(b, nullptr, {});
        auto sent = value(b, "traceparent");
        EXPECT_NE(sent, broken);
        auto parsed = trace::parse_traceparent(sent);
        ASSERT_TRUE(parsed) << sent;
        EXPECT_EQ(trace::to_hex(parsed->trace_id), trace::to_hex(fresh.trace_id));
        EXPECT_FALSE(fresh.sampled());
        EXPECT_EQ(value(b, "tracestate"), "<absent>");  // it belonged to the dropped context
    }
    http::HeaderList two = {{"traceparent", valid},
                            {"traceparent", valid}};  // several lines: invalid
    propagate_trace(two, nullptr, {});
    EXPECT_NE(value(two, "traceparent"), valid);

    http::HeaderList absent;
    propagate_trace(absent, nullptr, {});
    EXPECT_TRUE(trace::parse_traceparent(value(absent, "traceparent")));
}

TEST(TraceContext, TheGatewaySpanBecomesTheParent) {
    trace::SpanContext span;
    span.trace_id = trace::new_trace_id();
    span.span_id = trace::new_span_id();
    span.flags = trace::kSampled;
    http::HeaderList h = {
        {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
    propagate_trace(h, &span, "vendor=x");
    EXPECT_EQ(value(h, "traceparent"), trace::format_traceparent(span));
    EXPECT_EQ(value(h, "tracestate"), "vendor=x");
}

TEST(HeaderRules, RemoveThenSetThenAdd) {
    config::HeaderRuleSettings rules;
    rules.remove = {"x-internal", "Cookie"};
    rules.set = {{"X-Env", "prod"}};
    rules.add = {{"Via", "1.1 herald"}, {"X-Env", "extra"}};
    http::HeaderList h = {
        {"X-Internal", "1"}, {"cookie", "a=b"}, {"x-env", "dev"}, {"Via", "1.0 edge"}};
    apply_header_rules(h, rules);
    EXPECT_EQ(values(h, "X-Internal").size(), 0u);
    EXPECT_EQ(values(h, "Cookie").size(), 0u);
    EXPECT_EQ(values(h, "X-Env"), (std::vector<std::string>{"prod", "extra"}));
    EXPECT_EQ(values(h, "Via"), (std::vector<std::string>{"1.0 edge", "1.1 herald"}));
}

// A table with one route, matched against `path`, then rewritten.
std::string rewritten(RouteSpec spec, std::string_view path) {
    spec.name = "r";
    spec.upstream = "u";
    auto table = RouteTable::compile({spec}, {"u"});
    EXPECT_TRUE(table) << (table ? "" : table.error().message);
    auto m = table->match("h", "GET", path, {});
    EXPECT_TRUE(m.matched()) << path;
    if (!m.matched()) return "<no match>";
    auto r = rewrite_path(m.route(), path, m.match().params);
    return r ? *r : "<" + r.error().message + ">";
}

RouteSpec spec(PathMatchKind kind, std::string path, std::string strip = {},
               std::string rewrite = {}) {
    RouteSpec s;
    s.path_kind = kind;
    s.path = std::move(path);
    s.strip_prefix = std::move(strip);
    s.rewrite_path = std::move(rewrite);
    return s;
}

TEST(Rewrite, TemplatesAndPrefixes) {
    EXPECT_EQ(rewritten(spec(PathMatchKind::templated, "/users/{id}/orders/{order}", {},
                             "/v2/orders/{order}/of/{id}"),
                        "/users/42/orders/7"),
              "/v2/orders/7/of/42");
    EXPECT_EQ(rewritten(spec(PathMatchKind::prefix, "/api/", "/api"), "/api/users/1"), "/users/1");
    EXPECT_EQ(rewritten(spec(PathMatchKind::prefix, "/api/", "/api"), "/api"), "/");
    EXPECT_EQ(rewritten(spec(PathMatchKind::prefix, "/api/v1/", "/api"), "/api/v1/x"), "/v1/x");
    EXPECT_EQ(rewritten(spec(PathMatchKind::templated, "/api/users/{id}", "/api"), "/api/users/9"),
              "/users/9");
    // A prefix route's rewrite replaces the matched prefix and keeps the rest.
    EXPECT_EQ(rewritten(spec(PathMatchKind::prefix, "/old/", {}, "/new"), "/old/a/b"), "/new/a/b");
    EXPECT_EQ(rewritten(spec(PathMatchKind::prefix, "/old/", {}, "/new/"), "/old/a"), "/new/a");
    EXPECT_EQ(rewritten(spec(PathMatchKind::prefix, "/old/", {}, "/"), "/old/a"), "/a");
    EXPECT_EQ(rewritten(spec(PathMatchKind::prefix, "/old/", {}, "/new"), "/old"), "/new");
    EXPECT_EQ(rewritten(spec(PathMatchKind::exact, "/health", {}, "/internal/health"), "/health"),
              "/internal/health");
    EXPECT_EQ(rewritten(spec(PathMatchKind::prefix, "/"), "/kept/as/is/"), "/kept/as/is/");
}

TEST(PrepareUpstreamRequest, AllRulesTogether) {
    RouteSpec s = spec(PathMatchKind::templated, "/api/users/{id}", "/api");
    s.name = "users";
    s.upstream = "u";
    s.request_headers.set = {{"X-Gateway", "herald"}};
    s.request_headers.remove = {"Cookie"};
    s.response_headers.add = {{"Cache-Control", "no-store"}};
    auto table = RouteTable::compile({s}, {"u"});
    ASSERT_TRUE(table);

    http::Request req;
    req.method = "GET";
    req.query = "expand=orders&x=%20";
    req.headers = {{"Host", "api.example.com"},
                   {"Connection", "close"},
                   {"Cookie", "session=1"},
                   {"Accept", "application/json"},
                   {"X-Request-Id", "req-1"}};
    const std::string path = "/api/users/42";
    auto m = table->match("api.example.com", "GET", path, req.headers);
    ASSERT_TRUE(m.matched());
    auto up = prepare_upstream_request(req, m.match(), path,
                                       {"192.0.2.1", "https", "api.example.com", ""});
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(up->target, "/users/42?expand=orders&x=%20");  // query as received
    EXPECT_EQ(up->request_id, "req-1");
    EXPECT_EQ(value(up->headers, "Host"), "<absent>");
    EXPECT_EQ(value(up->headers, "Connection"), "<absent>");
    EXPECT_EQ(value(up->headers, "Cookie"), "<absent>");
    EXPECT_EQ(value(up->headers, "Accept"), "application/json");
    EXPECT_EQ(value(up->headers, "X-Gateway"), "herald");
    EXPECT_EQ(value(up->headers, "X-Forwarded-For"), "192.0.2.1");
    EXPECT_EQ(value(up->headers, "X-Forwarded-Proto"), "https");
    EXPECT_TRUE(trace::parse_traceparent(value(up->headers, "traceparent")));
    EXPECT_FALSE(up->websocket_upgrade);

    const Route& route = m.route();
    EXPECT_EQ(host_for_attempt(*up, route, "users.internal:8080"), "users.internal:8080");
    RouteSpec preserve = s;
    preserve.preserve_host = true;
    auto t2 = RouteTable::compile({preserve}, {"u"});
    EXPECT_EQ(host_for_attempt(*up, t2->route(0), "users.internal:8080"), "api.example.com");
    up->host_override = "rule.example";
    EXPECT_EQ(host_for_attempt(*up, t2->route(0), "users.internal:8080"), "rule.example");

    http::HeaderList response = {{"Content-Type", "application/json"},
                                 {"Transfer-Encoding", "chunked"},
                                 {"Connection", "keep-alive"}};
    prepare_downstream_response(response, route, "req-1", false);
    EXPECT_EQ(value(response, "Transfer-Encoding"), "<absent>");
    EXPECT_EQ(value(response, "Cache-Control"), "no-store");
    EXPECT_EQ(value(response, "X-Request-Id"), "req-1");
}

}  // namespace
}  // namespace herald::proxy
