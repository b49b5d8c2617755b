#include "proxy/forwarding.hpp"

#include <algorithm>
#include <vector>

#include "base/http_token.hpp"
#include "base/uuid.hpp"
#include "trace/ids.hpp"

namespace herald::proxy {
namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && http::iequals(s.substr(0, prefix.size()), prefix);
}

// Calls f(token) for each element of a comma-separated list.
template <class F>
void for_each_token(std::string_view list, F&& f) {
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = trim(list.substr(0, comma));
        if (!item.empty()) f(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

void remove_all(http::HeaderList& headers, std::string_view name) {
    std::erase_if(headers, [name](const auto& h) { return http::iequals(h.first, name); });
}

// All values of `name` joined with ", " (how several field lines of a list header combine), then
// removed.
std::string take_joined(http::HeaderList& headers, std::string_view name) {
    std::string joined;
    for (auto& [n, v] : headers) {
        if (!http::iequals(n, name)) continue;
        auto value = trim(v);
        if (value.empty()) continue;
        if (!joined.empty()) joined += ", ";
        joined += value;
    }
    remove_all(headers, name);
    return joined;
}

void set(http::HeaderList& headers, std::string_view name, std::string value) {
    remove_all(headers, name);
    headers.emplace_back(std::string(name), std::move(value));
}

bool is_ipv4(std::string_view a) noexcept {
    return !a.empty() && std::all_of(a.begin(), a.end(),
                                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

bool is_websocket_upgrade(const http::HeaderList& headers) noexcept {
    bool connection_upgrade = false, upgrade_websocket = false;
    for (auto& [name, value] : headers) {
        if (http::iequals(name, "Connection"))
            for_each_token(value, [&](std::string_view t) {
                connection_upgrade |= http::iequals(t, "upgrade");
            });
        else if (http::iequals(name, "Upgrade"))
            for_each_token(value, [&](std::string_view t) {
                upgrade_websocket |= http::iequals(t, "websocket");
            });
    }
    return connection_upgrade && upgrade_websocket;
}

void remove_hop_by_hop(http::HeaderList& headers, bool keep_websocket_upgrade) {
    // The headers Connection nominates are hop-by-hop too (RFC 9110 §7.6.1).
    std::vector<std::string> nominated;
    for (auto& [name, value] : headers)
        if (http::iequals(name, "Connection"))
            for_each_token(value, [&](std::string_view t) { nominated.emplace_back(t); });
    const bool upgrade = keep_websocket_upgrade && is_websocket_upgrade(headers);
    std::erase_if(headers, [&](const auto& h) {
        const auto& n = h.first;
        if (upgrade && http::iequals(n, "Upgrade")) return false;
        if (http::iequals(n, "Connection") || http::iequals(n, "Keep-Alive") ||
            http::iequals(n, "TE") || http::iequals(n, "Trailer") ||
            http::iequals(n, "Transfer-Encoding") || http::iequals(n, "Upgrade") ||
            starts_with_ci(n, "Proxy-"))
            return true;
        return std::any_of(nominated.begin(), nominated.end(), [&](const std::string& t) {
            // A nominated Upgrade survives when the upgrade is being proxied; the Connection token
            // itself is re-added below.
            return http::iequals(n, t) && !(upgrade && http::iequals(n, "Upgrade"));
        });
    });
    if (upgrade) headers.emplace_back("Connection", "Upgrade");
}

std::string forwarded_value(std::string_view v) {
    if (!v.empty() && std::all_of(v.begin(), v.end(), is_http_token_char)) return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) continue;  // not representable in a quoted-string: dropped
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

std::string forwarded_node(std::string_view address) {
    if (address.empty()) return "unknown";
    if (address.find(':') != std::string_view::npos) {
        // IPv6: bracketed, and quoted because ':' and '[' are not token characters (RFC 7239 §6).
        auto bare = address;
        if (bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
        return "\"[" + std::string(bare) + "]\"";
    }
    if (is_ipv4(address)) return std::string(address);
    return forwarded_value(address);  // an obfuscated identifier or a name: a token or quoted
}

std::string forwarded_element(const ClientInfo& c) {
    std::string e = "for=" + forwarded_node(c.address);
    if (!c.host.empty()) e += ";host=" + forwarded_value(c.host);
    if (!c.proto.empty()) e += ";proto=" + forwarded_value(c.proto);
    if (!c.by.empty()) e += ";by=" + forwarded_node(c.by);
    return e;
}

void add_forwarding_headers(http::HeaderList& headers, const ClientInfo& c) {
    auto xff = take_joined(headers, "X-Forwarded-For");
    const std::string address = c.address.empty() ? std::string("unknown") : std::string(c.address);
    headers.emplace_back("X-Forwarded-For", xff.empty() ? address : xff + ", " + address);
    if (!c.proto.empty()) set(headers, "X-Forwarded-Proto", std::string(c.proto));
    if (!c.host.empty())
        set(headers, "X-Forwarded-Host", std::string(c.host));
    else
        remove_all(headers, "X-Forwarded-Host");
    auto fwd = take_joined(headers, "Forwarded");
    auto element = forwarded_element(c);
    headers.emplace_back("Forwarded", fwd.empty() ? element : fwd + ", " + element);
}

bool is_valid_request_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/' || c == '=' ||
               c == '@' || c == '~';
    });
}

std::string ensure_request_id(http::HeaderList& headers, std::string_view generated) {
    std::string id;
    for (auto& [n, v] : headers) {
        if (http::iequals(n, "X-Request-Id") && is_valid_request_id(v)) {
            id = v;
            break;
        }
    }
    if (id.empty()) id = generated.empty() ? make_uuid_v7() : std::string(generated);
    set(headers, "X-Request-Id", id);
    return id;
}

trace::SpanContext propagate_trace(http::HeaderList& headers, const trace::SpanContext* server_span,
                                   std::string_view server_tracestate) {
    if (server_span && server_span->valid()) {
        set(headers, "traceparent", trace::format_traceparent(*server_span));
        auto state = trace::normalize_tracestate(server_tracestate);
        if (state.empty())
            remove_all(headers, "tracestate");
        else
            set(headers, "tracestate", std::move(state));
        return *server_span;
    }
    // No span of our own: keep the caller's context when it is valid. Several traceparent lines are
    // invalid.
    std::size_t count = 0;
    std::string_view value;
    for (auto& [n, v] : headers)
        if (http::iequals(n, "traceparent")) ++count, value = v;
    if (count == 1) {
        if (auto parsed = trace::parse_traceparent(value)) {
            auto state = trace::normalize_tracestate(take_joined(headers, "tracestate"));
            set(headers, "traceparent", trace::format_traceparent(*parsed));
            if (!state.empty()) headers.emplace_back("tracestate", std::move(state));
            return *parsed;
        }
    }
    trace::SpanContext fresh;
    fresh.trace_id = trace::new_trace_id();
    fresh.span_id = trace::new_span_id();
    set(headers, "traceparent", trace::format_traceparent(fresh));
    remove_all(headers, "tracestate");  // it belongs to the context that was dropped
    return fresh;
}

void apply_header_rules(http::HeaderList& headers, const config::HeaderRuleSettings& rules) {
    for (auto& name : rules.remove) remove_all(headers, name);
    for (auto& [name, value] : rules.set) remove_all(headers, name);
    for (auto& [name, value] : rules.set)
        headers.emplace_back(name, value);  // a name set twice keeps both values
    for (auto& [name, value] : rules.add) headers.emplace_back(name, value);
}

Result<std::string> rewrite_path(const Route& route, std::string_view path,
                                 const PathParams& params) {
    const auto& spec = route.spec();
    if (const auto& tmpl = route.rewrite_template()) {
        auto base = expand_path_template(*tmpl, params);
        if (!base) return base;
        if (spec.path_kind != config::PathMatchKind::prefix) return base;
        // A prefix route's rewrite replaces the matched prefix; the rest of the path follows.
        auto rest = path.substr(std::min(path.size(), route.prefix().size()));
        if (rest.empty()) return base;
        if (base->back() == '/' && rest.front() == '/') rest.remove_prefix(1);
        return *base + std::string(rest);
    }
    if (!spec.strip_prefix.empty()) {
        const auto& sp = spec.strip_prefix;
        if (path.substr(0, sp.size()) != sp || (path.size() > sp.size() && path[sp.size()] != '/'))
            return make_error(Errc::invalid_argument, "the path does not start with " + sp, "path");
        auto rest = path.substr(sp.size());
        return rest.empty() ? std::string("/") : std::string(rest);
    }
    return std::string(path);
}

Result<UpstreamRequest> prepare_upstream_request(const http::Request& request,
                                                 const RouteMatch& match, std::string_view path,
                                                 const ClientInfo& client) {
    const Route& route = *match.route;
    UpstreamRequest up;
    up.method = request.method;
    up.client_host = std::string(client.host);
    up.headers = request.headers;
    remove_all(up.headers, "Host");
    up.websocket_upgrade = is_websocket_upgrade(up.headers);
    remove_hop_by_hop(up.headers, true);
    add_forwarding_headers(up.headers, client);
    up.request_id = ensure_request_id(up.headers);
    up.trace = propagate_trace(up.headers, &request.trace, request.tracestate);
    apply_header_rules(up.headers, route.spec().request_headers);
    // A Host set by a rule travels separately, so the I/O layer writes exactly one Host line.
    for (auto& [n, v] : up.headers)
        if (http::iequals(n, "Host")) up.host_override = v;
    remove_all(up.headers, "Host");
    auto rewritten = rewrite_path(route, path, match.params);
    if (!rewritten) return std::move(rewritten).error();
    up.target = std::move(*rewritten);
    if (!request.query.empty()) up.target += "?" + request.query;
    return up;
}

std::string host_for_attempt(const UpstreamRequest& request, const Route& route,
                             std::string_view target_host) {
    if (!request.host_override.empty()) return request.host_override;
    if (route.spec().preserve_host && !request.client_host.empty()) return request.client_host;
    return std::string(target_host);
}

void prepare_downstream_response(http::HeaderList& headers, const Route& route,
                                 std::string_view request_id, bool websocket_upgrade) {
    remove_hop_by_hop(headers, websocket_upgrade);
    apply_header_rules(headers, route.spec().response_headers);
    if (!request_id.empty()) set(headers, "X-Request-Id", std::string(request_id));
}

}  // namespace herald::proxy
