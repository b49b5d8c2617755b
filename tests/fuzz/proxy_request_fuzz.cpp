// Fuzz target: what the REST gateway does with a client's request head (src/proxy): path
// normalisation, route matching against a fixed table, path rewrite and the forwarding header
// transforms.
//
// Input: line 1 the Host header, line 2 the method, line 3 the raw path, then "Name: value" header
// lines.
//
// Invariants beyond "no crash, no sanitizer report":
//  - a normalised path starts with '/', has no empty, "." or ".." segment except a trailing '/',
//    holds only path characters and escapes, and normalising it again changes nothing (what is
//    matched is what is forwarded);
//  - a matched template's parameters are non-empty single segments;
//  - the request prepared for the upstream has no hop-by-hop header (unless it is a WebSocket
//    upgrade), exactly one X-Forwarded-For, a valid X-Request-Id and a traceparent that parses, and
//    its target starts with '/'.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "proxy/forwarding.hpp"
#include "proxy/path.hpp"
#include "proxy/route.hpp"

using namespace herald;

namespace {

proxy::RouteSpec spec(std::string name, config::PathMatchKind kind, std::string path) {
    proxy::RouteSpec s;
    s.name = std::move(name);
    s.path_kind = kind;
    s.path = std::move(path);
    s.upstream = "u";
    return s;
}

const proxy::RouteTable& table() {
    static const proxy::RouteTable t = [] {
        using K = config::PathMatchKind;
        std::vector<proxy::RouteSpec> specs;
        specs.push_back(spec("root", K::prefix, "/"));
        auto api = spec("api", K::prefix, "/api/");
        api.strip_prefix = "/api";
        specs.push_back(api);
        auto user = spec("user", K::templated, "/api/users/{id}/orders/{order}");
        user.rewrite_path = "/v2/{order}/{id}";
        user.methods = {"GET", "PUT"};
        specs.push_back(user);
        auto old = spec("old", K::prefix, "/old/");
        old.rewrite_path = "/new/";
        old.hosts = {"*.example.com"};
        specs.push_back(old);
        auto health = spec("health", K::exact, "/health");
        health.hosts = {"api.example.com"};
        health.headers.push_back({"X-Probe", std::nullopt});
        specs.push_back(health);
        auto t = proxy::RouteTable::compile(std::move(specs), {"u"});
        HERALD_FUZZ_CHECK(t.has_value());
        return std::move(*t);
    }();
    return t;
}

std::string_view next_line(std::string_view& s) {
    auto nl = s.find('\n');
    auto line = s.substr(0, nl);
    s = nl == std::string_view::npos ? std::string_view{} : s.substr(nl + 1);
    return line;
}

bool is_hop_by_hop(std::string_view n) {
    for (auto h : {"Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade"})
        if (http::iequals(n, h)) return true;
    return n.size() >= 6 && http::iequals(n.substr(0, 6), "Proxy-");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto in = fuzz::as_text(data, size);
    const std::string host(next_line(in));
    const std::string method(next_line(in));
    const std::string raw(next_line(in));
    http::Request req;
    req.method = method;
    while (!in.empty()) {
        auto line = next_line(in);
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        req.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    auto q = raw.find('?');
    req.query = q == std::string::npos ? std::string() : raw.substr(q + 1);

    auto path = proxy::normalize_path(std::string_view(raw).substr(0, q));
    if (!path) {
        HERALD_FUZZ_CHECK(path.error().code == Errc::invalid_argument);
        return 0;
    }
    const std::string& p = *path;
    HERALD_FUZZ_CHECK(!p.empty() && p.front() == '/');
    HERALD_FUZZ_CHECK(p.find("//") == std::string::npos);
    HERALD_FUZZ_CHECK(p.find("/./") == std::string::npos && p.find("/../") == std::string::npos);
    HERALD_FUZZ_CHECK(!(p.size() >= 2 && p.compare(p.size() - 2, 2, "/.") == 0));
    HERALD_FUZZ_CHECK(!(p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0));
    auto again = proxy::normalize_path(p);
    HERALD_FUZZ_CHECK(again.has_value() && *again == p);

    auto m = table().match(host, method, p, req.headers);
    if (m.kind() == proxy::MatchResult::Kind::method_not_allowed) {
        HERALD_FUZZ_CHECK(!m.allowed_methods().empty());
        return 0;
    }
    if (!m.matched()) return 0;
    for (auto& [name, value] : m.match().params) {
        HERALD_FUZZ_CHECK(!value.empty());
        HERALD_FUZZ_CHECK(value.find('/') == std::string_view::npos);
    }
    proxy::ClientInfo client{"192.0.2.1", "https", host, ""};
    auto up = proxy::prepare_upstream_request(req, m.match(), p, client);
    HERALD_FUZZ_CHECK(up.has_value());
    HERALD_FUZZ_CHECK(!up->target.empty() && up->target.front() == '/');
    int xff = 0, request_ids = 0, traceparents = 0;
    for (auto& [name, value] : up->headers) {
        if (!up->websocket_upgrade) HERALD_FUZZ_CHECK(!is_hop_by_hop(name));
        HERALD_FUZZ_CHECK(!http::iequals(name, "Host"));
        if (http::iequals(name, "X-Forwarded-For")) ++xff;
        if (http::iequals(name, "X-Request-Id")) {
            ++request_ids;
            HERALD_FUZZ_CHECK(proxy::is_valid_request_id(value));
        }
        if (http::iequals(name, "traceparent")) {
            ++traceparents;
            HERALD_FUZZ_CHECK(trace::parse_traceparent(value).has_value());
        }
    }
    HERALD_FUZZ_CHECK(xff == 1 && request_ids == 1 && traceparents == 1);
    return 0;
}
