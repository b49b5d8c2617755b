#pragma once
// REST routes: which upstream a request goes to, how it is rewritten, and under which access
// policy.
//
// A route matches on host, path, method and headers (config::RouteSettings, docs/gateway.md):
//   - hosts: exact ("api.example.com"), wildcard ("*.example.com": one or more labels before
//     ".example.com", not the bare domain), or none (any host). The Host header is compared
//     lower-cased, without port.
//   - path: exact ("/health"), template ("/users/{id}": a parameter is one whole non-empty
//     segment), or prefix ("prefix: /api/": "/api", "/api/" and everything below, at a segment
//     boundary — never "/apix").
//   - methods: any of the list (HEAD also matches a route that allows GET); empty: any method.
//   - headers: each matcher needs the header present, with exactly this value when one is given.
//
// Priority, when several routes match a request (documented in docs/gateway.md; tested in
// route_test.cpp):
//   1. host: an exact host before a wildcard host (the longest wildcard suffix first) before any
//      host;
//   2. within the same host tier: exact path, then template, then prefix;
//   3. among templates: more literal segments first, then the longer template text;
//   4. among prefixes: the longest first;
//   5. remaining ties: declaration order.
// The first route in that order that matches host, path, headers *and* method wins. If none does
// but some route matched host, path and headers, the result is MethodNotAllowed with the union of
// their methods (answer 405 with Allow); otherwise NotFound.
//
// Cost: no regex at request time. Exact paths are one hash lookup per host tier; templates are
// bucketed by segment count and first segment; prefixes are one hash lookup per segment of the
// path. Thousands of routes cost about what ten do.
//
// Threading: a RouteTable is immutable once compiled; share it between workers (a reload builds a
// new one and swaps a shared_ptr). Match results point into the table and into the `path` argument.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/path_template.hpp"
#include "base/result.hpp"
#include "config/proxy_settings.hpp"
#include "http/message.hpp"
#include "security/principal.hpp"
#include "security/scopes.hpp"

namespace herald::proxy {

using RouteSpec = config::RouteSettings;

// Captured template parameters: (name, value), values as they appear in the normalised path.
using PathParams = std::vector<std::pair<std::string_view, std::string_view>>;

// A route's access policy, in the types the event endpoints' access control uses
// (server/access.hpp): authentication per `auth`, then every scope in `scopes` (security::allows),
// then the route's token bucket, then the body limit. One policy model for events and REST.
struct RoutePolicy {
    config::RouteAuth auth = config::RouteAuth::inherit;
    std::vector<security::Scope> scopes;  // all required
    config::RateLimitSettings rate_limit;
    std::optional<std::uint64_t> body_limit;
};

enum class PolicyDecision : std::uint8_t {
    allow,
    unauthenticated,  // 401: credentials needed (auth: required and the caller is anonymous)
    forbidden,        // 403: authenticated (or anonymous) but a required scope is missing
};

// The authorization step for a principal already established by Access::authenticate (auth off:
// every request is the all-scopes principal, which passes). `auth_enabled` is config.auth.enabled.
// A required scope "publish:orders" is held when one of the principal's scopes of that action has a
// glob matching "orders" (so "publish:*" covers it); scopes are Herald's own (security/scopes.hpp).
PolicyDecision check_policy(const RoutePolicy& policy, bool auth_enabled,
                            const security::Principal& principal);

// A compiled route. Owned by its RouteTable.
class Route {
public:
    const RouteSpec& spec() const noexcept { return spec_; }
    const std::string& name() const noexcept { return spec_.name; }
    const std::string& upstream() const noexcept { return spec_.upstream; }
    std::size_t index() const noexcept { return index_; }  // declaration order
    const RoutePolicy& policy() const noexcept { return policy_; }
    const PathTemplate& path_template() const noexcept { return template_; }
    // The rewrite template (rewrite.path), when the route has one.
    const std::optional<PathTemplate>& rewrite_template() const noexcept { return rewrite_; }
    // A prefix route's prefix without its trailing '/' ("" for "/").
    const std::string& prefix() const noexcept { return prefix_; }
    // The key the route's rate limit is counted under, with the principal: "route:<name>".
    std::string rate_limit_scope() const { return "route:" + spec_.name; }

private:
    friend class RouteTable;
    RouteSpec spec_;
    std::size_t index_ = 0;
    RoutePolicy policy_;
    PathTemplate template_;
    std::optional<PathTemplate> rewrite_;
    std::string prefix_;
};

struct RouteMatch {
    const Route* route = nullptr;
    PathParams params;
};

class MatchResult {
public:
    enum class Kind : std::uint8_t { matched, method_not_allowed, not_found };

    Kind kind() const noexcept { return kind_; }
    bool matched() const noexcept { return kind_ == Kind::matched; }
    // Kind::matched only.
    const RouteMatch& match() const noexcept { return match_; }
    const Route& route() const noexcept { return *match_.route; }
    // Kind::method_not_allowed: the methods that would have matched, sorted, without duplicates.
    const std::vector<std::string>& allowed_methods() const noexcept { return allow_; }
    // "DELETE, GET, HEAD": the Allow header of a 405.
    std::string allow_header() const;

private:
    friend class RouteTable;
    Kind kind_ = Kind::not_found;
    RouteMatch match_;
    std::vector<std::string> allow_;
};

class RouteTable {
public:
    RouteTable() = default;
    RouteTable(RouteTable&&) noexcept = default;
    RouteTable& operator=(RouteTable&&) noexcept = default;

    // Validates and compiles. Errors (Errc::invalid_argument) name the route: "routes[3] (orders):
    // ...", with the key path as the attribute. Checked: names present and unique; hosts; path
    // templates; rewrite uses only captured parameters and strip_prefix is a leading part of the
    // path; scopes are Herald scopes; auth: none requires no scopes; the upstream is one of
    // `upstreams`; no two routes identical in what they match (the second could never be chosen).
    static Result<RouteTable> compile(std::vector<RouteSpec> specs,
                                      const std::set<std::string, std::less<>>& upstreams);

    // `host`: the Host header as received (normalised here). `path`: the normalised path
    // (proxy/path.hpp); the result's params point into it. `method` is case-sensitive, as HTTP
    // methods are.
    MatchResult match(std::string_view host, std::string_view method, std::string_view path,
                      const http::HeaderList& headers) const;

    std::size_t size() const noexcept { return routes_.size(); }
    const Route& route(std::size_t i) const noexcept { return *routes_[i]; }
    const Route* find(std::string_view name) const noexcept;

private:
    using Ids = std::vector<std::uint32_t>;
    // Lookups by string_view without building a std::string per request.
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    template <class V>
    using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
    struct TemplateBucket {
        StringMap<Ids> by_first;  // first segment is this literal
        Ids param_first;          // first segment is a parameter
    };
    // The routes of one host tier.
    struct Group {
        StringMap<Ids> exact;
        std::unordered_map<std::size_t, TemplateBucket> templates;  // by segment count
        StringMap<Ids> prefixes;  // by prefix without trailing '/'
    };
    struct Scan;

    void add(Group& g, std::uint32_t id);
    void sort_templates(Group& g);
    bool scan_group(const Group& g, Scan& s) const;

    std::vector<std::unique_ptr<Route>> routes_;  // stable addresses: results point at them
    StringMap<Group> exact_hosts_;
    StringMap<Group> wildcard_hosts_;  // key: ".example.com"
    Group any_host_;
    bool has_wildcards_ = false;
};

}  // namespace herald::proxy
