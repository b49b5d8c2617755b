#include "proxy/route.hpp"

#include <algorithm>

#include "proxy/path.hpp"

namespace herald::proxy {
namespace {

Error route_error(std::size_t i, const RouteSpec& spec, const std::string& key,
                  const std::string& what) {
    const auto path = "routes[" + std::to_string(i) + "]" + (key.empty() ? "" : "." + key);
    const auto who =
        "routes[" + std::to_string(i) + "]" + (spec.name.empty() ? "" : " (" + spec.name + ")");
    return make_error(Errc::invalid_argument, who + (key.empty() ? "" : " " + key) + ": " + what,
                      path);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
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

// Templates compete by specificity: more literal segments, then longer text, then declaration
// order.
bool template_before(const Route& a, const Route& b) noexcept {
    auto la = a.path_template().literal_count(), lb = b.path_template().literal_count();
    if (la != lb) return la > lb;
    auto sa = a.path_template().source.size(), sb = b.path_template().source.size();
    if (sa != sb) return sa > sb;
    return a.index() < b.index();
}

bool header_matches(const http::HeaderList& headers,
                    const config::HeaderMatchSettings& m) noexcept {
    for (auto& [name, value] : headers)
        if (http::iequals(name, m.name) && (!m.value || value == *m.value)) return true;
    return false;
}

// What a route matches, as a string: two routes with the same key are indistinguishable to the
// matcher.
std::string identity_key(const Route& r) {
    const auto& s = r.spec();
    std::string key = std::to_string(static_cast<int>(s.path_kind)) + "|";
    key += s.path_kind == config::PathMatchKind::prefix ? r.prefix() : s.path;
    auto hosts = s.hosts;
    std::sort(hosts.begin(), hosts.end());
    for (auto& h : hosts) key += "|h:" + h;
    auto methods = s.methods;
    std::sort(methods.begin(), methods.end());
    for (auto& m : methods) key += "|m:" + m;
    std::vector<std::string> headers;
    for (auto& h : s.headers) headers.push_back(lower(h.name) + (h.value ? "=" + *h.value : "?"));
    std::sort(headers.begin(), headers.end());
    for (auto& h : headers) key += "|x:" + h;
    return key;
}

}  // namespace

PolicyDecision check_policy(const RoutePolicy& policy, bool auth_enabled,
                            const security::Principal& principal) {
    if (policy.auth == config::RouteAuth::none || !auth_enabled) return PolicyDecision::allow;
    const bool anonymous = principal.kind == security::PrincipalKind::anonymous;
    if (policy.auth == config::RouteAuth::required && anonymous)
        return PolicyDecision::unauthenticated;
    for (auto& required : policy.scopes) {
        if (security::allows(principal.scopes, required.action, required.pattern)) continue;
        // An anonymous caller lacking a scope is asked to authenticate rather than refused
        // outright.
        return anonymous ? PolicyDecision::unauthenticated : PolicyDecision::forbidden;
    }
    return PolicyDecision::allow;
}

std::string MatchResult::allow_header() const {
    std::string out;
    for (auto& m : allow_) {
        if (!out.empty()) out += ", ";
        out += m;
    }
    return out;
}

const Route* RouteTable::find(std::string_view name) const noexcept {
    for (auto& r : routes_)
        if (r->name() == name) return r.get();
    return nullptr;
}

Result<RouteTable> RouteTable::compile(std::vector<RouteSpec> specs,
                                       const std::set<std::string, std::less<>>& upstreams) {
    RouteTable t;
    std::set<std::string, std::less<>> names;
    std::unordered_map<std::string, std::string> identities;  // identity key → route name
    for (std::size_t i = 0; i < specs.size(); ++i) {
        auto r = std::make_unique<Route>();
        r->spec_ = std::move(specs[i]);
        r->index_ = i;
        auto& s = r->spec_;
        if (s.name.empty()) return route_error(i, s, "name", "a route needs a name");
        if (!names.insert(s.name).second) return route_error(i, s, "name", "route name used twice");
        if (!upstreams.count(s.upstream))
            return route_error(i, s, "upstream", "no upstream named \"" + s.upstream + "\"");

        for (auto& h : s.hosts) {
            h = lower(h);
            const bool ipv6 = h.size() > 2 && h.front() == '[' && h.back() == ']';
            auto name = h.rfind("*.", 0) == 0 ? std::string_view(h).substr(2) : std::string_view(h);
            const bool plain =
                !name.empty() && name.find_first_of("*:[]/ ") == std::string_view::npos;
            if (!ipv6 && !plain)
                return route_error(i, s, "match.hosts",
                                   "\"" + h + "\" is not a host name or *.domain");
        }

        const auto path_key =
            s.path_kind == config::PathMatchKind::prefix ? "match.prefix" : "match.path";
        auto tmpl = parse_path_template(s.path);
        if (!tmpl) return route_error(i, s, path_key, tmpl.error().message);
        const bool has_params = tmpl->param_count() > 0;
        if (s.path_kind == config::PathMatchKind::templated && !has_params)
            return route_error(i, s, path_key, "a template needs at least one {parameter}");
        if (s.path_kind != config::PathMatchKind::templated && has_params)
            return route_error(i, s, path_key, "only a path may have {parameters}");
        r->template_ = std::move(*tmpl);
        if (s.path_kind == config::PathMatchKind::prefix) {
            r->prefix_ = s.path;
            if (!r->prefix_.empty() && r->prefix_.back() == '/') r->prefix_.pop_back();
        }

        for (auto& m : s.methods)
            if (m.empty() ||
                !std::all_of(m.begin(), m.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
                return route_error(i, s, "match.methods", "\"" + m + "\" is not an HTTP method");
        for (auto& h : s.headers)
            if (h.name.empty())
                return route_error(i, s, "match.headers", "a header matcher needs a name");

        if (!s.strip_prefix.empty() && !s.rewrite_path.empty())
            return route_error(i, s, "rewrite", "give strip_prefix or path, not both");
        if (!s.strip_prefix.empty()) {
            auto head = literal_head(r->template_);
            const auto& sp = s.strip_prefix;
            if (sp == "/" || sp.back() == '/' || !(head == sp || head.rfind(sp + "/", 0) == 0))
                return route_error(i, s, "rewrite.strip_prefix",
                                   sp + " is not a leading part of the route's path " + s.path);
        }
        if (!s.rewrite_path.empty()) {
            auto rw = parse_path_template(s.rewrite_path);
            if (!rw) return route_error(i, s, "rewrite.path", rw.error().message);
            for (auto& seg : rw->segments)
                if (seg.param && !r->template_.has_param(seg.text))
                    return route_error(i, s, "rewrite.path",
                                       "{" + seg.text + "} is not a parameter of " + s.path);
            r->rewrite_ = std::move(*rw);
        }

        r->policy_.auth = s.policy.auth;
        r->policy_.rate_limit = s.policy.rate_limit;
        r->policy_.body_limit = s.policy.body_limit;
        auto scopes = security::parse_scopes_strict(s.policy.scopes);
        if (!scopes) return route_error(i, s, "policy.scopes", scopes.error().message);
        r->policy_.scopes = std::move(*scopes);
        if (s.policy.auth == config::RouteAuth::none && !r->policy_.scopes.empty())
            return route_error(i, s, "policy.scopes",
                               "a route with auth: none cannot require scopes");

        auto key = identity_key(*r);
        if (auto [it, fresh] = identities.emplace(key, s.name); !fresh)
            return route_error(i, s, "match",
                               "matches exactly what route \"" + it->second +
                                   "\" matches, so it could never be chosen");
        t.routes_.push_back(std::move(r));
    }

    for (std::uint32_t id = 0; id < t.routes_.size(); ++id) {
        const auto& hosts = t.routes_[id]->spec().hosts;
        if (hosts.empty()) t.add(t.any_host_, id);
        for (auto& h : hosts) {
            if (h.rfind("*.", 0) == 0) {
                t.add(t.wildcard_hosts_[h.substr(1)], id);
                t.has_wildcards_ = true;
            } else {
                t.add(t.exact_hosts_[h], id);
            }
        }
    }
    t.sort_templates(t.any_host_);
    for (auto& [h, g] : t.exact_hosts_) t.sort_templates(g);
    for (auto& [h, g] : t.wildcard_hosts_) t.sort_templates(g);
    return t;
}

void RouteTable::add(Group& g, std::uint32_t id) {
    const Route& r = *routes_[id];
    switch (r.spec().path_kind) {
        case config::PathMatchKind::exact:
            g.exact[r.spec().path].push_back(id);
            break;
        case config::PathMatchKind::prefix:
            g.prefixes[r.prefix()].push_back(id);
            break;
        case config::PathMatchKind::templated: {
            const auto& segs = r.path_template().segments;
            auto& bucket = g.templates[segs.size()];
            if (segs.front().param)
                bucket.param_first.push_back(id);
            else
                bucket.by_first[segs.front().text].push_back(id);
            break;
        }
    }
    // Exact and prefix lists are already in declaration order: ids are added in that order.
}

void RouteTable::sort_templates(Group& g) {
    auto before = [this](std::uint32_t a, std::uint32_t b) {
        return template_before(*routes_[a], *routes_[b]);
    };
    for (auto& [n, bucket] : g.templates) {
        std::sort(bucket.param_first.begin(), bucket.param_first.end(), before);
        for (auto& [first, ids] : bucket.by_first) std::sort(ids.begin(), ids.end(), before);
    }
}

// One request's walk through the tiers: its inputs, the path's segments (split once, when a
// template needs them), the methods of routes that matched all but the method, and the result.
struct RouteTable::Scan {
    std::string_view method;
    std::string_view path;
    const http::HeaderList& headers;
    std::vector<std::string_view> segments;
    bool split = false;
    std::set<std::string_view> allow;
    MatchResult result;

    const std::vector<std::string_view>& segs() {
        if (!split) segments = split_path_segments(path), split = true;
        return segments;
    }

    // Host and path already match. True when the route is chosen.
    bool offer(const Route& r, PathParams params = {}) {
        for (auto& m : r.spec().headers)
            if (!header_matches(headers, m)) return false;
        const auto& methods = r.spec().methods;
        if (!methods.empty()) {
            bool ok = false;
            for (auto& m : methods) ok = ok || m == method || (method == "HEAD" && m == "GET");
            if (!ok) {
                for (auto& m : methods) {
                    allow.insert(m);
                    if (m == "GET") allow.insert("HEAD");
                }
                return false;
            }
        }
        result.kind_ = MatchResult::Kind::matched;
        result.match_.route = &r;
        result.match_.params = std::move(params);
        return true;
    }

    bool offer_template(const Route& r) {
        const auto& ts = r.path_template().segments;
        const auto& ps = segs();
        if (ts.size() != ps.size()) return false;
        PathParams params;
        for (std::size_t i = 0; i < ts.size(); ++i) {
            if (ts[i].param) {
                if (ps[i].empty()) return false;
                params.emplace_back(ts[i].text, ps[i]);
            } else if (ts[i].text != ps[i]) {
                return false;
            }
        }
        return offer(r, std::move(params));
    }
};

bool RouteTable::scan_group(const Group& g, Scan& s) const {
    if (!g.exact.empty()) {
        if (auto it = g.exact.find(s.path); it != g.exact.end())
            for (auto id : it->second)
                if (s.offer(*routes_[id])) return true;
    }
    if (!g.templates.empty()) {
        const auto& segs = s.segs();
        if (auto bt = g.templates.find(segs.size()); bt != g.templates.end()) {
            static const Ids kNone;
            const Ids* literal = &kNone;
            if (!segs.empty())
                if (auto it = bt->second.by_first.find(segs.front());
                    it != bt->second.by_first.end())
                    literal = &it->second;
            const Ids& param = bt->second.param_first;
            // Merge the two candidate lists, each already in priority order.
            std::size_t a = 0, b = 0;
            while (a < literal->size() || b < param.size()) {
                std::uint32_t id;
                if (b == param.size() ||
                    (a < literal->size() &&
                     template_before(*routes_[(*literal)[a]], *routes_[param[b]])))
                    id = (*literal)[a++];
                else
                    id = param[b++];
                if (s.offer_template(*routes_[id])) return true;
            }
        }
    }
    if (!g.prefixes.empty()) {
        std::string_view key = s.path;
        if (!key.empty() && key.back() == '/') key.remove_suffix(1);
        while (true) {
            if (auto it = g.prefixes.find(key); it != g.prefixes.end())
                for (auto id : it->second)
                    if (s.offer(*routes_[id])) return true;
            if (key.empty()) break;
            key = key.substr(0, key.rfind('/'));
        }
    }
    return false;
}

MatchResult RouteTable::match(std::string_view host, std::string_view method, std::string_view path,
                              const http::HeaderList& headers) const {
    Scan s{method, path, headers, {}, false, {}, {}};
    const auto h = normalize_host(host);
    if (!exact_hosts_.empty())
        if (auto it = exact_hosts_.find(h); it != exact_hosts_.end() && scan_group(it->second, s))
            return std::move(s.result);
    if (has_wildcards_) {
        // Longest suffix first: for "a.b.example.com" try ".b.example.com", then ".example.com",
        // then ".com".
        for (auto dot = h.find('.'); dot != std::string::npos && dot > 0;
             dot = h.find('.', dot + 1))
            if (auto it = wildcard_hosts_.find(std::string_view(h).substr(dot));
                it != wildcard_hosts_.end() && scan_group(it->second, s))
                return std::move(s.result);
    }
    if (scan_group(any_host_, s)) return std::move(s.result);
    MatchResult r;
    if (!s.allow.empty()) {
        r.kind_ = MatchResult::Kind::method_not_allowed;
        r.allow_.assign(s.allow.begin(), s.allow.end());
    }
    return r;
}

}  // namespace herald::proxy
