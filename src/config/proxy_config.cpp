// Parsing of the `upstreams:` and `routes:` sections (config/proxy_settings.hpp, docs/gateway.md). Same rules as
// the rest of herald.yaml: every unknown key, wrong type or out-of-range value is an error naming the key path
// and line. Upstreams are parsed first so that routes can be checked against them in the same pass.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "base/http_token.hpp"
#include "base/json_text.hpp"
#include "base/path_template.hpp"
#include "config/config.hpp"

#include "config/walker.hpp"
#include "security/scopes.hpp"

namespace herald::config::detail {
namespace {

bool json_literal(std::string_view v) {
    if (v == "true" || v == "false" || v == "null") return true;
    if (v.empty()) return false;
    std::size_t i = v[0] == '-' ? 1 : 0;
    if (i == v.size() || !(v[i] >= '0' && v[i] <= '9') || (v[i] == '0' && i + 1 < v.size() && v[i + 1] != '.')) return false;
    bool dot = false;
    for (; i < v.size(); ++i) {
        if (v[i] == '.' && !dot) { dot = true; continue; }
        if (v[i] < '0' || v[i] > '9') return false;
    }
    return v.back() != '.';
}

void node_to_json(std::string& out, const YAML::Node& n) {
    if (n.IsMap()) {
        out += '{';
        bool first = true;
        for (auto it = n.begin(); it != n.end(); ++it) {
            if (!first) out += ',';
            first = false;
            herald::append_json_string(out, it->first.Scalar());
            out += ':';
            node_to_json(out, it->second);
        }
        out += '}';
    } else if (n.IsSequence()) {
        out += '[';
        for (std::size_t i = 0; i < n.size(); ++i) {
            if (i) out += ',';
            node_to_json(out, n[i]);
        }
        out += ']';
    } else if (n.IsScalar()) {
        // A quoted scalar stays a string; a plain one that reads as a JSON literal keeps that form.
        if (n.Tag() != "!" && json_literal(n.Scalar()))
            out += n.Scalar();
        else
            herald::append_json_string(out, n.Scalar());
    } else {
        out += "null";
    }
}

// The entry as JSON, as written: what the config dump and the admin API show, and what the admin API accepts.
std::string yaml_to_json(const YAML::Node& n) {
    std::string out;
    node_to_json(out, n);
    return out;
}

constexpr std::size_t kMaxTargets = 1000;
constexpr std::uint64_t kMaxWeight = 1000;
constexpr std::size_t kMaxRoutes = 10'000;

std::string index_path(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Route and upstream names appear in metrics labels, logs and problem details: keep them plain.
bool valid_name(std::string_view n) {
    if (n.empty() || n.size() > 64) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

bool valid_header_name(std::string_view n) {
    return !n.empty() && n.size() <= 256 && std::all_of(n.begin(), n.end(), is_http_token_char);
}

// RFC 9110 field-value: visible characters, spaces and tabs; never CR, LF or NUL (header injection).
bool valid_header_value(std::string_view v) {
    return v.size() <= 8192 && std::all_of(v.begin(), v.end(), [](char c) {
               auto u = static_cast<unsigned char>(c);
               return u == '\t' || (u >= 0x20 && u != 0x7f);
           });
}

// Headers the proxy itself manages per hop (proxy/forwarding.hpp); a route may not add or set them.
bool is_hop_by_hop(std::string_view n) {
    for (auto h : {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                   "proxy-authenticate", "proxy-authorization"})
        if (lower(std::string(n)) == h) return true;
    return false;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_dns_label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A host name (lower-cased already): dot-separated labels, or a bracket-less IPv6 literal for targets.
bool valid_host_name(std::string_view h) {
    if (h.empty() || h.size() > 253 || h.front() == '.' || h.back() == '.') return false;
    bool prev_dot = false;
    for (char c : h) {
        if (c == '.') {
            if (prev_dot) return false;
            prev_dot = true;
            continue;
        }
        prev_dot = false;
        if (!is_dns_label_char(c)) return false;
    }
    return true;
}

bool valid_ipv6(std::string_view h) {
    if (h.size() < 2 || h.size() > 45) return false;
    return std::all_of(h.begin(), h.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
           }) &&
           h.find(':') != std::string_view::npos;
}

// "host:port" or "[v6]:port".
Result<TargetSettings> parse_address(const Walker& w, const YAML::Node& n, const std::string& path,
                                     const std::string& text) {
    TargetSettings t;
    std::string host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return w.error(n, path, "expected [IPv6]:port");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        if (!valid_ipv6(host)) return w.error(n, path, "\"" + host + "\" is not an IPv6 address");
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) return w.error(n, path, "expected host:port (the port is required)");
        host = lower(text.substr(0, colon));
        port = text.substr(colon + 1);
        if (host.find(':') != std::string::npos)
            return w.error(n, path, "write an IPv6 address in brackets: [2001:db8::1]:8080");
        if (!valid_host_name(host)) return w.error(n, path, "\"" + host + "\" is not a host name or address");
    }
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit) ||
        std::stoul(port) == 0 || std::stoul(port) > 65535)
        return w.error(n, path, "the port must be a number between 1 and 65535");
    t.host = host;
    t.port = static_cast<std::uint16_t>(std::stoul(port));
    return t;
}

Result<TargetSettings> parse_target(const Walker& w, const YAML::Node& n, const std::string& path) {
    if (n.IsScalar()) return parse_address(w, n, path, n.Scalar());
    if (auto k = w.keys(n, path, {"address", "weight"}); !k) return std::move(k).error();
    auto a = n["address"];
    if (!a) return w.error(n, path, "a target needs an address (host:port)");
    HERALD_TRY(text, w.str(a, path + ".address"));
    HERALD_TRY(t, parse_address(w, a, path + ".address", text));
    if (auto x = n["weight"]) {
        HERALD_TRY(v, w.count(x, path + ".weight", 1, kMaxWeight));
        t.weight = static_cast<std::uint32_t>(v);
    }
    return t;
}

Result<void> parse_timeouts(const Walker& w, const YAML::Node& n, const std::string& path, TimeoutOverrides& t) {
    if (auto k = w.keys(n, path, {"connect", "read", "total"}); !k) return k;
    if (auto x = n["connect"]) { HERALD_TRY(v, w.duration(x, path + ".connect", 1)); t.connect_ms = v; }
    if (auto x = n["read"]) { HERALD_TRY(v, w.duration(x, path + ".read", 0)); t.read_ms = v; }
    if (auto x = n["total"]) { HERALD_TRY(v, w.duration(x, path + ".total", 0)); t.total_ms = v; }
    return ok();
}

Result<void> parse_retries(const Walker& w, const YAML::Node& n, const std::string& path, RetrySettings& r,
                           RetryBudgetSettings* budget) {
    std::set<std::string> known{"attempts", "per_try_timeout"};
    if (budget) known.insert("budget");
    if (auto k = w.keys(n, path, known); !k) return k;
    if (auto x = n["attempts"]) { HERALD_TRY(v, w.count(x, path + ".attempts", 0, 10)); r.attempts = std::uint32_t(v); }
    if (auto x = n["per_try_timeout"]) { HERALD_TRY(v, w.duration(x, path + ".per_try_timeout", 0)); r.per_try_timeout_ms = v; }
    if (auto b = n["budget"]; b && budget) {
        const auto bp = path + ".budget";
        if (auto k = w.keys(b, bp, {"ratio", "min_retries_per_second"}); !k) return k;
        if (auto x = b["ratio"]) { HERALD_TRY(v, w.number(x, bp + ".ratio", 0, 1)); budget->ratio = v; }
        if (auto x = b["min_retries_per_second"]) {
            HERALD_TRY(v, w.count(x, bp + ".min_retries_per_second", 0, 1'000'000));
            budget->min_retries_per_second = std::uint32_t(v);
        }
    }
    return ok();
}

Result<void> parse_health_check(const Walker& w, const YAML::Node& n, const std::string& path,
                                ActiveHealthSettings& h) {
    if (auto k = w.keys(n, path, {"path", "host", "interval", "timeout", "healthy_threshold", "unhealthy_threshold",
                                  "expected_status"});
        !k)
        return k;
    h.enabled = true;
    if (auto x = n["path"]) {
        HERALD_TRY(v, w.str(x, path + ".path"));
        if (v.empty() || v.front() != '/' ||
            std::any_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
            return w.error(x, path + ".path", "expected a path such as /healthz");
        h.path = v;
    }
    if (auto x = n["host"]) {
        HERALD_TRY(v, w.str(x, path + ".host"));
        if (!valid_header_value(v) || v.empty()) return w.error(x, path + ".host", "expected a host name");
        h.host = v;
    }
    if (auto x = n["interval"]) { HERALD_TRY(v, w.duration(x, path + ".interval", 100)); h.interval_ms = v; }
    if (auto x = n["timeout"]) { HERALD_TRY(v, w.duration(x, path + ".timeout", 1)); h.timeout_ms = v; }
    if (auto x = n["healthy_threshold"]) { HERALD_TRY(v, w.count(x, path + ".healthy_threshold", 1, 100)); h.healthy_threshold = std::uint32_t(v); }
    if (auto x = n["unhealthy_threshold"]) { HERALD_TRY(v, w.count(x, path + ".unhealthy_threshold", 1, 100)); h.unhealthy_threshold = std::uint32_t(v); }
    if (auto x = n["expected_status"]) {
        // 200, or a range "200-399".
        HERALD_TRY(v, w.str(x, path + ".expected_status"));
        auto dash = v.find('-');
        auto parse = [](const std::string& s) -> int {
            if (s.size() != 3 || !std::all_of(s.begin(), s.end(), is_digit)) return -1;
            int n = std::stoi(s);
            return n >= 100 && n <= 599 ? n : -1;
        };
        int lo = parse(v.substr(0, dash));
        int hi = dash == std::string::npos ? lo : parse(v.substr(dash + 1));
        if (lo < 0 || hi < 0 || lo > hi)
            return w.error(x, path + ".expected_status", "expected a status such as 200 or a range such as 200-399");
        h.expected_status_min = std::uint16_t(lo);
        h.expected_status_max = std::uint16_t(hi);
    }
    if (h.timeout_ms >= h.interval_ms)
        return w.error(n, path + ".timeout", "must be shorter than the interval");
    return ok();
}

Result<void> parse_passive_health(const Walker& w, const YAML::Node& n, const std::string& path,
                                  PassiveHealthSettings& p) {
    if (auto k = w.keys(n, path, {"consecutive_failures", "base_ejection", "max_ejection", "max_ejection_percent"});
        !k)
        return k;
    if (auto x = n["consecutive_failures"]) { HERALD_TRY(v, w.count(x, path + ".consecutive_failures", 0, 1000)); p.consecutive_failures = std::uint32_t(v); }
    if (auto x = n["base_ejection"]) { HERALD_TRY(v, w.duration(x, path + ".base_ejection", 1)); p.base_ejection_ms = v; }
    if (auto x = n["max_ejection"]) { HERALD_TRY(v, w.duration(x, path + ".max_ejection", 1)); p.max_ejection_ms = v; }
    if (auto x = n["max_ejection_percent"]) { HERALD_TRY(v, w.count(x, path + ".max_ejection_percent", 0, 100)); p.max_ejection_percent = std::uint32_t(v); }
    if (p.max_ejection_ms < p.base_ejection_ms)
        return w.error(n["max_ejection"] ? n["max_ejection"] : n, path + ".max_ejection",
                       "must be at least base_ejection");
    return ok();
}

Result<void> parse_tls(const Walker& w, const YAML::Node& n, const std::string& path, UpstreamSettings& u) {
    if (n.IsScalar()) {
        HERALD_TRY(v, w.boolean(n, path));
        u.tls = v;
        return ok();
    }
    if (auto k = w.keys(n, path, {"server_name", "ca_file", "verify"}); !k) return k;
    u.tls = true;  // a tls mapping means TLS
    if (auto x = n["server_name"]) { HERALD_TRY(v, w.str(x, path + ".server_name")); u.tls_server_name = lower(v); }
    if (auto x = n["ca_file"]) { HERALD_TRY(v, w.str(x, path + ".ca_file")); u.ca_file = v; }
    if (auto x = n["verify"]) { HERALD_TRY(v, w.boolean(x, path + ".verify")); u.verify = v; }
    return ok();
}

Result<UpstreamSettings> parse_upstream(const Walker& w, const YAML::Node& n, const std::string& path) {
    if (auto k = w.keys(n, path, {"targets", "balancer", "hash_on", "tls", "timeouts", "max_idle_connections",
                                  "idle_timeout", "retries", "passive_health", "health_check"});
        !k)
        return std::move(k).error();
    UpstreamSettings u;
    auto targets = n["targets"];
    if (!targets) return w.error(n, path, "an upstream needs targets");
    if (!targets.IsSequence() || targets.size() == 0 || targets.size() > kMaxTargets)
        return w.error(targets, path + ".targets", "expected a list of 1 to 1000 targets (host:port)");
    for (std::size_t i = 0; i < targets.size(); ++i) {
        HERALD_TRY(t, parse_target(w, targets[i], index_path(path + ".targets", i)));
        for (auto& other : u.targets)
            if (other.host == t.host && other.port == t.port)
                return w.error(targets[i], index_path(path + ".targets", i), "target listed twice");
        u.targets.push_back(std::move(t));
    }
    if (auto x = n["balancer"]) {
        HERALD_TRY(v, w.str(x, path + ".balancer"));
        if (v == "round_robin") u.balancer = BalancerKind::round_robin;
        else if (v == "least_request") u.balancer = BalancerKind::least_request;
        else if (v == "consistent_hash") u.balancer = BalancerKind::consistent_hash;
        else return w.error(x, path + ".balancer", "expected round_robin, least_request or consistent_hash");
    }
    if (auto x = n["hash_on"]) {
        HERALD_TRY(v, w.str(x, path + ".hash_on"));
        const std::string kExpect = "expected header:NAME, cookie:NAME or client_address";
        if (v == "client_address") {
            u.hash_on.source = HashSource::client_address;
        } else if (v.rfind("header:", 0) == 0 && valid_header_name(v.substr(7))) {
            u.hash_on = {HashSource::header, v.substr(7)};
        } else if (v.rfind("cookie:", 0) == 0 && valid_header_name(v.substr(7))) {
            u.hash_on = {HashSource::cookie, v.substr(7)};
        } else {
            return w.error(x, path + ".hash_on", kExpect);
        }
        if (u.balancer != BalancerKind::consistent_hash)
            return w.error(x, path + ".hash_on", "only the consistent_hash balancer uses hash_on");
    } else if (u.balancer == BalancerKind::consistent_hash) {
        return w.error(n["balancer"], path + ".balancer", "consistent_hash needs hash_on");
    }
    if (auto x = n["tls"]) { if (auto r = parse_tls(w, x, path + ".tls", u); !r) return std::move(r).error(); }
    if (auto x = n["timeouts"]) {
        TimeoutOverrides t;
        if (auto r = parse_timeouts(w, x, path + ".timeouts", t); !r) return std::move(r).error();
        u.connect_timeout_ms = t.connect_ms.value_or(u.connect_timeout_ms);
        u.read_timeout_ms = t.read_ms.value_or(u.read_timeout_ms);
        u.total_timeout_ms = t.total_ms.value_or(u.total_timeout_ms);
    }
    if (auto x = n["max_idle_connections"]) { HERALD_TRY(v, w.count(x, path + ".max_idle_connections", 0, 10'000)); u.max_idle_connections = std::uint32_t(v); }
    if (auto x = n["idle_timeout"]) { HERALD_TRY(v, w.duration(x, path + ".idle_timeout", 100)); u.idle_timeout_ms = v; }
    if (auto x = n["retries"]) {
        if (auto r = parse_retries(w, x, path + ".retries", u.retries, &u.retry_budget); !r) return std::move(r).error();
    }
    if (auto x = n["passive_health"]) {
        if (auto r = parse_passive_health(w, x, path + ".passive_health", u.passive_health); !r) return std::move(r).error();
    }
    if (auto x = n["health_check"]) {
        if (auto r = parse_health_check(w, x, path + ".health_check", u.health_check); !r) return std::move(r).error();
    }
    u.definition = yaml_to_json(n);
    return u;
}

// `hosts:` entries: "api.example.com", "*.example.com" or "[2001:db8::1]"; matched without the port.
Result<std::string> parse_route_host(const Walker& w, const YAML::Node& n, const std::string& path) {
    HERALD_TRY(v, w.str(n, path));
    auto h = lower(v);
    if (h.size() > 2 && h.front() == '[' && h.back() == ']' && valid_ipv6(h.substr(1, h.size() - 2))) return h;
    auto name = h.rfind("*.", 0) == 0 ? h.substr(2) : h;
    if (h == "*") return w.error(n, path, "leave hosts out to match any host");
    if (name.find(':') != std::string::npos) return w.error(n, path, "hosts are matched without the port");
    if (!valid_host_name(name) || name.find('*') != std::string::npos)
        return w.error(n, path, "expected a host name such as api.example.com or *.example.com");
    return h;
}

Result<void> parse_header_rules(const Walker& w, const YAML::Node& n, const std::string& path,
                                HeaderRuleSettings& rules) {
    if (auto k = w.keys(n, path, {"add", "set", "remove"}); !k) return k;
    auto pairs = [&](const char* key, std::vector<std::pair<std::string, std::string>>& out) -> Result<void> {
        auto m = n[key];
        if (!m) return ok();
        const auto p = path + "." + key;
        if (!m.IsMap()) return w.error(m, p, "expected a mapping of header names to values");
        for (auto it = m.begin(); it != m.end(); ++it) {
            HERALD_TRY(name, w.str(it->first, p));
            const auto hp = p + "." + name;
            if (!valid_header_name(name)) return w.error(it->first, hp, "not a valid header name");
            if (is_hop_by_hop(name)) return w.error(it->first, hp, "hop-by-hop headers are managed by the proxy");
            HERALD_TRY(value, w.str(it->second, hp));
            if (!valid_header_value(value))
                return w.error(it->second, hp, "header values cannot hold control characters (CR, LF, NUL)");
            out.emplace_back(name, value);
        }
        return ok();
    };
    if (auto r = pairs("set", rules.set); !r) return r;
    if (auto r = pairs("add", rules.add); !r) return r;
    if (auto m = n["remove"]) {
        HERALD_TRY(names, string_list(w, m, path + ".remove"));
        for (std::size_t i = 0; i < names.size(); ++i)
            if (!valid_header_name(names[i]))
                return w.error(m[i], index_path(path + ".remove", i), "not a valid header name");
        rules.remove = std::move(names);
    }
    return ok();
}

Result<void> parse_match(const Walker& w, const YAML::Node& n, const std::string& path, RouteSettings& r,
                         PathTemplate& tmpl) {
    if (auto k = w.keys(n, path, {"hosts", "path", "prefix", "methods", "headers"}); !k) return k;
    if (auto x = n["hosts"]) {
        if (!x.IsSequence()) return w.error(x, path + ".hosts", "expected a list of host names");
        for (std::size_t i = 0; i < x.size(); ++i) {
            HERALD_TRY(h, parse_route_host(w, x[i], index_path(path + ".hosts", i)));
            if (std::find(r.hosts.begin(), r.hosts.end(), h) != r.hosts.end())
                return w.error(x[i], index_path(path + ".hosts", i), "host listed twice");
            r.hosts.push_back(std::move(h));
        }
    }
    auto p = n["path"], pre = n["prefix"];
    if (p && pre) return w.error(pre, path + ".prefix", "give path or prefix, not both");
    if (!p && !pre) return w.error(n, path, "a route matches a path or a prefix (prefix: / matches everything)");
    const auto key = path + (p ? ".path" : ".prefix");
    auto node = p ? p : pre;
    HERALD_TRY(text, w.str(node, key));
    auto t = parse_path_template(text);
    if (!t) return w.error(node, key, t.error().message);
    if (pre && t->param_count() > 0) return w.error(node, key, "a prefix cannot have {parameters}");
    r.path = text;
    r.path_kind = pre ? PathMatchKind::prefix : t->param_count() ? PathMatchKind::templated : PathMatchKind::exact;
    tmpl = std::move(*t);
    if (auto x = n["methods"]) {
        HERALD_TRY(list, string_list(w, x, path + ".methods"));
        for (std::size_t i = 0; i < list.size(); ++i) {
            auto m = list[i];
            for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (!valid_header_name(m) || m.size() > 32)
                return w.error(x[i], index_path(path + ".methods", i), "not an HTTP method");
            if (std::find(r.methods.begin(), r.methods.end(), m) != r.methods.end())
                return w.error(x[i], index_path(path + ".methods", i), "method listed twice");
            r.methods.push_back(std::move(m));
        }
    }
    if (auto x = n["headers"]) {
        if (!x.IsSequence()) return w.error(x, path + ".headers", "expected a list of {name, value}");
        for (std::size_t i = 0; i < x.size(); ++i) {
            const auto hp = index_path(path + ".headers", i);
            if (auto k = w.keys(x[i], hp, {"name", "value"}); !k) return k;
            HeaderMatchSettings h;
            auto name = x[i]["name"];
            if (!name) return w.error(x[i], hp, "a header matcher needs a name (and a value, or none for presence)");
            HERALD_TRY(nm, w.str(name, hp + ".name"));
            if (!valid_header_name(nm)) return w.error(name, hp + ".name", "not a valid header name");
            h.name = nm;
            if (auto v = x[i]["value"]) {
                HERALD_TRY(val, w.str(v, hp + ".value"));
                if (!valid_header_value(val)) return w.error(v, hp + ".value", "control characters are not allowed");
                h.value = val;
            }
            r.headers.push_back(std::move(h));
        }
    }
    return ok();
}

// The literal path before the first parameter: "/users/{id}" → "/users".
std::string literal_head(const PathTemplate& t) {
    std::string out;
    for (auto& s : t.segments) {
        if (s.param) break;
        out += "/" + s.text;
    }
    return out;
}

Result<void> parse_rewrite(const Walker& w, const YAML::Node& n, const std::string& path, RouteSettings& r,
                           const PathTemplate& match) {
    if (auto k = w.keys(n, path, {"strip_prefix", "path"}); !k) return k;
    auto sp = n["strip_prefix"], rp = n["path"];
    if (sp && rp)
        return w.error(rp, path + ".path", "give strip_prefix or path, not both (path already replaces the prefix)");
    if (sp) {
        HERALD_TRY(v, w.str(sp, path + ".strip_prefix"));
        auto t = parse_path_template(v);
        if (!t || t->param_count() || v == "/" || v.back() == '/')
            return w.error(sp, path + ".strip_prefix", "expected a path without a trailing '/', such as /api");
        // Stripping must apply to every path the route matches, so it has to be part of the route's literal head.
        auto head = literal_head(match);
        if (!(head == v || head.rfind(v + "/", 0) == 0))
            return w.error(sp, path + ".strip_prefix",
                           v + " is not a leading part of the route's " +
                               (r.path_kind == PathMatchKind::prefix ? "prefix " : "path ") + r.path);
        r.strip_prefix = v;
    }
    if (rp) {
        HERALD_TRY(v, w.str(rp, path + ".path"));
        auto t = parse_path_template(v);
        if (!t) return w.error(rp, path + ".path", t.error().message);
        for (auto& s : t->segments)
            if (s.param && !match.has_param(s.text))
                return w.error(rp, path + ".path", "{" + s.text + "} is not a parameter of the route's path " + r.path);
        r.rewrite_path = v;
    }
    return ok();
}

Result<void> parse_policy(const Walker& w, const YAML::Node& n, const std::string& path, RoutePolicySettings& p,
                          const AuthSettings& auth) {
    if (auto k = w.keys(n, path, {"auth", "scopes", "rate_limit", "body_limit"}); !k) return k;
    if (auto x = n["auth"]) {
        HERALD_TRY(v, w.str(x, path + ".auth"));
        if (v == "inherit") p.auth = RouteAuth::inherit;
        else if (v == "required") p.auth = RouteAuth::required;
        else if (v == "none") p.auth = RouteAuth::none;
        else return w.error(x, path + ".auth", "expected inherit, required or none");
        if (p.auth == RouteAuth::required && !auth.enabled)
            return w.error(x, path + ".auth", "required needs auth.enabled: true");
    }
    if (auto x = n["scopes"]) {
        HERALD_TRY(list, string_list(w, x, path + ".scopes"));
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (auto s = security::parse_scope_strict(list[i]); !s)
                return w.error(x[i], index_path(path + ".scopes", i), s.error().message);
        }
        if (!list.empty() && p.auth == RouteAuth::none)
            return w.error(x, path + ".scopes", "a route with auth: none cannot require scopes");
        p.scopes = std::move(list);
    }
    if (auto x = n["rate_limit"]) { HERALD_TRY(v, parse_rate(w, x, path + ".rate_limit")); p.rate_limit = v; }
    if (auto x = n["body_limit"]) { HERALD_TRY(v, w.bytes(x, path + ".body_limit", 0)); p.body_limit = v; }
    return ok();
}

Result<RouteSettings> parse_route(const Walker& w, const YAML::Node& n, const std::string& path, const Config& c) {
    if (auto k = w.keys(n, path, {"name", "description", "match", "upstream", "rewrite", "preserve_host",
                                  "request_headers", "response_headers", "policy", "timeouts", "retries"});
        !k)
        return std::move(k).error();
    RouteSettings r;
    auto name = n["name"];
    if (!name) return w.error(n, path, "a route needs a name");
    HERALD_TRY(nm, w.str(name, path + ".name"));
    if (!valid_name(nm)) return w.error(name, path + ".name", "use 1 to 64 letters, digits, '.', '-' or '_'");
    r.name = nm;
    if (auto d = n["description"]) {
        HERALD_TRY(text, w.str(d, path + ".description"));
        if (text.size() > 1000) return w.error(d, path + ".description", "at most 1000 characters");
        r.description = text;
    }
    auto match = n["match"];
    if (!match) return w.error(n, path, "a route needs match (at least a path or a prefix)");
    PathTemplate tmpl;
    if (auto res = parse_match(w, match, path + ".match", r, tmpl); !res) return std::move(res).error();
    auto up = n["upstream"];
    if (!up) return w.error(n, path, "a route needs an upstream");
    HERALD_TRY(un, w.str(up, path + ".upstream"));
    if (!c.upstreams.count(un)) {
        std::string known;
        for (auto& [k, v] : c.upstreams) known += (known.empty() ? "" : ", ") + k;
        return w.error(up, path + ".upstream",
                       "no upstream named \"" + un + "\" (declared: " + (known.empty() ? "none" : known) + ")");
    }
    r.upstream = un;
    if (auto x = n["rewrite"]) { if (auto res = parse_rewrite(w, x, path + ".rewrite", r, tmpl); !res) return std::move(res).error(); }
    if (auto x = n["preserve_host"]) { HERALD_TRY(v, w.boolean(x, path + ".preserve_host")); r.preserve_host = v; }
    if (auto x = n["request_headers"]) { if (auto res = parse_header_rules(w, x, path + ".request_headers", r.request_headers); !res) return std::move(res).error(); }
    if (auto x = n["response_headers"]) { if (auto res = parse_header_rules(w, x, path + ".response_headers", r.response_headers); !res) return std::move(res).error(); }
    if (auto x = n["policy"]) { if (auto res = parse_policy(w, x, path + ".policy", r.policy, c.auth); !res) return std::move(res).error(); }
    if (auto x = n["timeouts"]) { if (auto res = parse_timeouts(w, x, path + ".timeouts", r.timeouts); !res) return std::move(res).error(); }
    if (auto x = n["retries"]) {
        RetrySettings rs = c.upstreams.at(un).retries;  // unspecified keys keep the upstream's values
        if (auto res = parse_retries(w, x, path + ".retries", rs, nullptr); !res) return std::move(res).error();
        r.retries = rs;
    }
    r.definition = yaml_to_json(n);
    return r;
}

}  // namespace

bool valid_upstream_name(std::string_view n) { return valid_name(n); }
Result<UpstreamSettings> parse_upstream_node(const Walker& w, const YAML::Node& n, const std::string& path) {
    return parse_upstream(w, n, path);
}
Result<RouteSettings> parse_route_node(const Walker& w, const YAML::Node& n, const std::string& path,
                                       const Config& c) {
    return parse_route(w, n, path, c);
}

Result<void> parse_proxy_sections(const Walker& w, const YAML::Node& root, Config& c) {
    if (auto ups = root["upstreams"]) {
        if (!ups.IsMap()) return w.error(ups, "upstreams", "expected a mapping of upstream names to pools");
        for (auto it = ups.begin(); it != ups.end(); ++it) {
            HERALD_TRY(name, w.str(it->first, "upstreams"));
            const auto path = "upstreams." + name;
            if (!valid_name(name)) return w.error(it->first, path, "use 1 to 64 letters, digits, '.', '-' or '_'");
            HERALD_TRY(u, parse_upstream(w, it->second, path));
            u.name = name;
            c.upstreams.emplace(name, std::move(u));
        }
    }
    if (auto routes = root["routes"]) {
        if (!routes.IsSequence()) return w.error(routes, "routes", "expected a list of routes");
        if (routes.size() > kMaxRoutes) return w.error(routes, "routes", "at most 10000 routes");
        std::set<std::string> names;
        for (std::size_t i = 0; i < routes.size(); ++i) {
            const auto path = index_path("routes", i);
            HERALD_TRY(r, parse_route(w, routes[i], path, c));
            if (!names.insert(r.name).second)
                return w.error(routes[i]["name"], path + ".name", "route name \"" + r.name + "\" used twice");
            c.routes.push_back(std::move(r));
        }
    }
    return ok();
}

}  // namespace herald::config::detail

namespace herald::config {

namespace {

// A single entry given through the admin API as JSON (which is YAML): parsed with the same walker as the file,
// so the same keys, ranges and messages apply. `what` names the source in messages ("admin API").
template <class F>
auto parse_entry(const std::string& text, const std::string& what, F&& parse) -> decltype(parse(
    std::declval<const detail::Walker&>(), std::declval<const YAML::Node&>())) {
    YAML::Node node;
    try {
        node = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        return make_error(Errc::invalid_argument, what + ": not valid JSON: " + e.msg);
    }
    if (!node.IsMap()) return make_error(Errc::invalid_argument, what + ": expected a JSON object");
    detail::Walker w(what);
    try {
        return parse(w, node);
    } catch (const YAML::Exception& e) {
        return make_error(Errc::invalid_argument, what + ": " + e.msg);
    }
}

}  // namespace

Result<UpstreamSettings> parse_upstream_entry(const std::string& name, const std::string& text,
                                              const std::string& what) {
    if (!detail::valid_upstream_name(name))
        return make_error(Errc::invalid_argument, "upstream names use 1 to 64 letters, digits, '.', '-' or '_'",
                          "name");
    return parse_entry(text, what, [&](const detail::Walker& w, const YAML::Node& n) -> Result<UpstreamSettings> {
        HERALD_TRY(u, detail::parse_upstream_node(w, n, "upstreams." + name));
        u.name = name;
        return u;
    });
}

Result<RouteSettings> parse_route_entry(const std::string& text,
                                        const std::map<std::string, UpstreamSettings>& upstreams,
                                        const std::string& what) {
    Config known;
    known.upstreams = upstreams;
    return parse_entry(text, what, [&](const detail::Walker& w, const YAML::Node& n) -> Result<RouteSettings> {
        return detail::parse_route_node(w, n, "route", known);
    });
}

}  // namespace herald::config

