#include "proxy/route.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "proxy/path.hpp"

namespace herald::proxy {
namespace {

using config::PathMatchKind;
using config::RouteAuth;

const std::set<std::string, std::less<>> kUpstreams{"a", "b", "c"};

RouteSpec route(std::string name, PathMatchKind kind, std::string path,
                std::vector<std::string> methods = {}, std::vector<std::string> hosts = {}) {
    RouteSpec s;
    s.name = std::move(name);
    s.path_kind = kind;
    s.path = std::move(path);
    s.methods = std::move(methods);
    s.hosts = std::move(hosts);
    s.upstream = "a";
    return s;
}
RouteSpec exact(std::string n, std::string p, std::vector<std::string> m = {},
                std::vector<std::string> h = {}) {
    return route(std::move(n), PathMatchKind::exact, std::move(p), std::move(m), std::move(h));
}
RouteSpec tmpl(std::string n, std::string p, std::vector<std::string> m = {},
               std::vector<std::string> h = {}) {
    return route(std::move(n), PathMatchKind::templated, std::move(p), std::move(m), std::move(h));
}
RouteSpec prefix(std::string n, std::string p, std::vector<std::string> m = {},
                 std::vector<std::string> h = {}) {
    return route(std::move(n), PathMatchKind::prefix, std::move(p), std::move(m), std::move(h));
}

RouteTable compile(std::vector<RouteSpec> specs) {
    auto t = RouteTable::compile(std::move(specs), kUpstreams);
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    return t ? std::move(*t) : RouteTable{};
}

// The name of the chosen route, "405 <Allow>" or "404".
std::string who(const RouteTable& t, std::string_view host, std::string_view method,
                std::string_view path, const http::HeaderList& headers = {}) {
    auto r = t.match(host, method, path, headers);
    switch (r.kind()) {
        case MatchResult::Kind::matched:
            return r.route().name();
        case MatchResult::Kind::method_not_allowed:
            return "405 " + r.allow_header();
        case MatchResult::Kind::not_found:
            return "404";
    }
    return "?";
}

TEST(RouteTable, PriorityTable) {
    auto t = compile({
        prefix("catch-all", "/"),
        prefix("api", "/api/"),
        prefix("api-v1", "/api/v1/"),
        exact("api-v1-health", "/api/v1/health"),
        tmpl("user", "/api/v1/users/{id}"),
        tmpl("user-me-ish", "/api/v1/users/{id}/profile"),
        exact("user-me", "/api/v1/users/me"),
        tmpl("any-any", "/api/{version}/users/{id}"),
        tmpl("order", "/api/v1/users/{id}/orders/{order}"),
        prefix("host-api", "/api/", {}, {"admin.example.com"}),
        prefix("wild-api", "/api/", {}, {"*.example.com"}),
        prefix("deep-wild", "/", {}, {"*.eu.example.com"}),
        exact("get-only", "/things", {"GET"}),
        exact("post-only", "/things", {"POST"}),
        exact("delete-only", "/only-delete", {"DELETE"}),
    });
    struct Case {
        const char* host;
        const char* method;
        const char* path;
        const char* want;
    } cases[] = {
        {"x.test", "GET", "/", "catch-all"},
        {"x.test", "GET", "/other/thing", "catch-all"},
        {"x.test", "GET", "/api", "api"},  // the prefix without its slash
        {"x.test", "GET", "/api/", "api"},
        {"x.test", "GET", "/apix", "catch-all"},  // never a partial segment
        {"x.test", "GET", "/api/v2/x", "api"},
        {"x.test", "GET", "/api/v1/x", "api-v1"},              // longest prefix
        {"x.test", "GET", "/api/v1/health", "api-v1-health"},  // exact before prefix
        {"x.test", "GET", "/api/v1/users/me", "user-me"},      // exact before template
        {"x.test", "GET", "/api/v1/users/42", "user"},         // more literal segments first
        {"x.test", "GET", "/api/v2/users/42", "any-any"},
        {"x.test", "GET", "/api/v1/users/42/profile", "user-me-ish"},
        {"x.test", "GET", "/api/v1/users/42/orders/7", "order"},
        {"x.test", "GET", "/api/v1/users/42/orders",
         "api-v1"},                                     // no template of that shape: the prefix
        {"x.test", "GET", "/api/v1/users/", "api-v1"},  // a parameter is never empty
        {"admin.example.com", "GET", "/api/v1/health",
         "host-api"},  // host tier first, whatever the path kind
        {"ADMIN.example.com:8443", "GET", "/api/x", "host-api"},  // case and port do not matter
        {"admin.example.com", "GET", "/elsewhere",
         "catch-all"},  // host tier falls through to any host
        {"shop.example.com", "GET", "/api/x", "wild-api"},
        {"example.com", "GET", "/api/x", "api"},             // *.example.com is not the bare domain
        {"a.eu.example.com", "GET", "/api/x", "deep-wild"},  // the longest wildcard suffix first
        {"a.b.example.com", "GET", "/api/x", "wild-api"},    // a wildcard covers several labels
        {"x.test", "GET", "/things", "get-only"},
        {"x.test", "HEAD", "/things", "get-only"},  // HEAD rides on GET
        {"x.test", "POST", "/things", "post-only"},
        {"x.test", "PUT", "/things", "catch-all"},  // a full match anywhere beats a 405
        {"x.test", "DELETE", "/only-delete", "delete-only"},
    };
    for (auto& c : cases)
        EXPECT_EQ(who(t, c.host, c.method, c.path), c.want)
            << c.host << " " << c.method << " " << c.path;
}

TEST(RouteTable, MethodNotAllowedListsTheUnionOfMethods) {
    auto t = compile({
        exact("get", "/things", {"GET"}),
        exact("post", "/things", {"POST", "PUT"}),
        tmpl("one", "/things/{id}", {"DELETE"}),
    });
    EXPECT_EQ(who(t, "h", "PATCH", "/things"), "405 GET, HEAD, POST, PUT");
    EXPECT_EQ(who(t, "h", "GET", "/things/1"), "405 DELETE");
    EXPECT_EQ(who(t, "h", "GET", "/nothing"), "404");
    auto r = t.match("h", "PATCH", "/things", {});
    ASSERT_EQ(r.kind(), MatchResult::Kind::method_not_allowed);
    EXPECT_EQ(r.allowed_methods(), (std::vector<std::string>{"GET", "HEAD", "POST", "PUT"}));
}

TEST(RouteTable, HeaderMatchersNarrowARoute) {
    auto beta = prefix("beta", "/", {}, {});
    beta.headers.push_back({"X-Channel", std::string("beta")});
    auto debug = prefix("debug", "/", {"GET"}, {});
    debug.headers.push_back({"x-debug", std::nullopt});  // presence only
    auto t = compile({beta, debug, prefix("stable", "/")});
    EXPECT_EQ(who(t, "h", "GET", "/x", {{"x-channel", "beta"}}), "beta");
    EXPECT_EQ(who(t, "h", "GET", "/x", {{"X-Channel", "BETA"}}), "stable");  // values are exact
    EXPECT_EQ(who(t, "h", "GET", "/x", {{"X-Debug", ""}}), "debug");
    EXPECT_EQ(who(t, "h", "POST", "/x", {{"X-Debug", "1"}}), "stable");
    EXPECT_EQ(who(t, "h", "GET", "/x", {}), "stable");
    // A route whose headers do not match contributes nothing to a 405.
    auto only = exact("only", "/p", {"GET"});
    only.headers.push_back({"X-Key", std::nullopt});
    auto t2 = compile({only});
    EXPECT_EQ(who(t2, "h", "POST", "/p"), "404");
    EXPECT_EQ(who(t2, "h", "POST", "/p", {{"X-Key", "1"}}), "405 GET, HEAD");
}

TEST(RouteTable, TemplateTiesAndDeclarationOrder) {
    auto t = compile({
        tmpl("first", "/a/{x}/c"),
        tmpl("second", "/a/b/{y}"),  // same literals and length: declaration order decides
        tmpl("params", "/{p}/{q}/{r}"),
        tmpl("longer", "/aaaa/{x}/c"),
    });
    EXPECT_EQ(who(t, "h", "GET", "/a/b/c"), "first");
    EXPECT_EQ(who(t, "h", "GET", "/a/b/z"), "second");
    EXPECT_EQ(who(t, "h", "GET", "/z/z/z"), "params");
    EXPECT_EQ(who(t, "h", "GET", "/aaaa/b/c"), "longer");
    // The same route list with exact duplicates of what routes match is refused (the second could
    // never win).
    auto dup = RouteTable::compile({prefix("one", "/api/"), prefix("two", "/api")}, kUpstreams);
    ASSERT_FALSE(dup);
    EXPECT_NE(dup.error().message.find("routes[1] (two)"), std::string::npos)
        << dup.error().message;
    EXPECT_NE(dup.error().message.find("\"one\""), std::string::npos);
}

TEST(RouteTable, CapturesParameters) {
    auto t = compile({tmpl("order", "/users/{id}/orders/{order}")});
    auto r = t.match("h", "GET", "/users/42/orders/a%2Fb", {});
    ASSERT_TRUE(r.matched());
    const auto& p = r.match().params;
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].first, "id");
    EXPECT_EQ(p[0].second, "42");
    EXPECT_EQ(p[1].first, "order");
    EXPECT_EQ(p[1].second, "a%2Fb");  // an encoded slash is part of one segment
}

TEST(RouteTable, CompileErrorsNameTheRoute) {
    struct Bad {
        RouteSpec spec;
        const char* attribute;
        const char* says;
    };
    auto unknown_upstream = exact("x", "/x");
    unknown_upstream.upstream = "nope";
    auto bad_template = tmpl("x", "/users/{id");
    auto param_in_prefix = prefix("x", "/users/{id}");
    auto rewrite_unknown = tmpl("x", "/users/{id}");
    rewrite_unknown.rewrite_path = "/v2/{user}";
    auto strip_wrong = prefix("x", "/api/");
    strip_wrong.strip_prefix = "/other";
    auto bad_scope = exact("x", "/x");
    bad_scope.policy.scopes = {"read:users"};
    auto none_with_scopes = exact("x", "/x");
    none_with_scopes.policy.auth = RouteAuth::none;
    none_with_scopes.policy.scopes = {"publish:x"};
    auto bad_host = exact("x", "/x", {}, {"a*.example.com"});
    auto no_name = exact("", "/x");
    const Bad cases[] = {
        {unknown_upstream, "routes[0].upstream", "no upstream named \"nope\""},
        {bad_template, "routes[0].match.path", "whole segment"},
        {param_in_prefix, "routes[0].match.prefix", "only a path may have"},
        {rewrite_unknown, "routes[0].rewrite.path", "{user} is not a parameter"},
        {strip_wrong, "routes[0].rewrite.strip_prefix", "not a leading part"},
        {bad_scope, "routes[0].policy.scopes", "is not a scope"},
        {none_with_scopes, "routes[0].policy.scopes", "auth: none"},
        {bad_host, "routes[0].match.hosts", "not a host name"},
        {no_name, "routes[0].name", "needs a name"},
    };
    for (auto& c : cases) {
        auto t = RouteTable::compile({c.spec}, kUpstreams);
        ASSERT_FALSE(t) << c.attribute;
        EXPECT_EQ(t.error().attribute, c.attribute);
        EXPECT_NE(t.error().message.find(c.says), std::string::npos) << t.error().message;
    }
    auto dup = RouteTable::compile({exact("same", "/a"), exact("same", "/b")}, kUpstreams);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().attribute, "routes[1].name");
}

TEST(RouteTable, ManyRoutesMatchQuickly) {
    std::vector<RouteSpec> specs;
    for (int i = 0; i < 3000; ++i) {
        specs.push_back(exact("e" + std::to_string(i), "/svc" + std::to_string(i) + "/health"));
        specs.push_back(tmpl("t" + std::to_string(i), "/svc" + std::to_string(i) + "/items/{id}"));
        specs.push_back(prefix("p" + std::to_string(i), "/svc" + std::to_string(i) + "/"));
    }
    auto t = compile(std::move(specs));
    ASSERT_EQ(t.size(), 9000u);
    const auto start = std::chrono::steady_clock::now();
    int hits = 0;
    for (int round = 0; round < 10; ++round) {
        for (int i = 0; i < 3000; i += 7) {
            const auto n = std::to_string(i);
            hits += who(t, "h", "GET", "/svc" + n + "/health") == "e" + n;
            hits += who(t, "h", "GET", "/svc" + n + "/items/9") == "t" + n;
            hits += who(t, "h", "GET", "/svc" + n + "/deep/er") == "p" + n;
        }
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(hits, 10 * 3 * 429);
    // ~13k matches over 9000 routes: a linear scan would take seconds; the index takes
    // milliseconds.
    EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(RoutePolicy, ReusesScopesAndAuthModes) {
    RoutePolicy p;
    p.scopes = {security::Scope{security::Action::subscribe, "orders"}};
    security::Principal anonymous;
    security::Principal reader;
    reader.kind = security::PrincipalKind::api_key;
    reader.scopes = {security::Scope{security::Action::subscribe, "orders*"}};
    security::Principal writer;
    writer.kind = security::PrincipalKind::jwt;
    writer.scopes = {security::Scope{security::Action::publish, "*"}};

    EXPECT_EQ(check_policy(p, false, anonymous),
              PolicyDecision::allow);  // auth off: everything goes
    EXPECT_EQ(check_policy(p, true, reader),
              PolicyDecision::allow);  // the glob covers the required name
    EXPECT_EQ(check_policy(p, true, writer), PolicyDecision::forbidden);
    EXPECT_EQ(check_policy(p, true, anonymous), PolicyDecision::unauthenticated);
    anonymous.scopes = {
        security::Scope{security::Action::subscribe, "*"}};  // auth.anonymous_scopes
    EXPECT_EQ(check_policy(p, true, anonymous), PolicyDecision::allow);
    p.auth = RouteAuth::required;
    EXPECT_EQ(check_policy(p, true, anonymous), PolicyDecision::unauthenticated);
    p.auth = RouteAuth::none;
    p.scopes.clear();
    EXPECT_EQ(check_policy(p, true, anonymous), PolicyDecision::allow);
}

}  // namespace
}  // namespace herald::proxy
