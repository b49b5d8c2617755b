#include "server/proxy_plane.hpp"

#include "http/problem.hpp"
#include "http/raw_exchange.hpp"
#include "proxy/errors.hpp"
#include "proxy/path.hpp"
#include "server/observability.hpp"

namespace herald::server {

namespace asio = boost::asio;

ProxyPlane::ProxyPlane(gateway::Gateway& gateway, SecurityContext& security, log::Logger* logger)
    : gateway_(gateway), access_(security, SystemClock::instance()), logger_(logger), forwarder_(gateway.stats()) {}

bool ProxyPlane::claims(std::string_view target) const noexcept {
    // Herald's own paths first: this runs on every request, publishing included, and costs a few compares there.
    if (gateway::Gateway::is_reserved(target)) return false;
    return !gateway_.snapshot()->empty();
}

asio::awaitable<void> ProxyPlane::handle(http::RawExchange& x) {
    auto snapshot = gateway_.snapshot();
    x.head.route = "proxy";
    auto& req = x.head;
    auto path = proxy::normalize_path(std::string_view(req.target).substr(0, req.target.find('?')));
    if (!path) {
        co_await gateway::Forwarder::answer(
            x, proxy::error_response(proxy::ProxyError::invalid_path, path.error().message));
        co_return;
    }
    // A spelling of Herald's own paths ("/v1/../v1/topics", "/%761/...") is not a route either.
    if (gateway::Gateway::is_reserved(*path)) {
        co_await gateway::Forwarder::answer(
            x, proxy::error_response(proxy::ProxyError::no_route, "no route for " + req.method + " " + *path));
        co_return;
    }
    auto m = snapshot->routes.match(req.header("Host"), req.method, *path, req.headers);
    if (m.kind() == proxy::MatchResult::Kind::not_found) {
        co_await gateway::Forwarder::answer(
            x, proxy::error_response(proxy::ProxyError::no_route, "no route for " + req.method + " " + *path));
        co_return;
    }
    if (m.kind() == proxy::MatchResult::Kind::method_not_allowed) {
        co_await gateway::Forwarder::answer(
            x, proxy::error_response(proxy::ProxyError::method_not_allowed,
                                     "allowed: " + m.allow_header(), m.allow_header()));
        co_return;
    }
    const proxy::Route& route = m.route();
    const auto& policy = route.policy();

    // Who is asking: the same authentication as the event endpoints, unless the route is public.
    security::PrincipalPtr principal;
    if (policy.auth == config::RouteAuth::none || !access_.enabled()) {
        static const auto anonymous = std::make_shared<const security::Principal>();
        principal = anonymous;
    } else {
        auto who = access_.authenticate(req, false);
        if (auto* refused = std::get_if<http::Response>(&who)) {
            co_await gateway::Forwarder::answer(x, std::move(*refused));
            co_return;
        }
        principal = std::get<security::PrincipalPtr>(who);
    }
    if (logger_ && logger_->access_enabled()) req.principal = principal_label(*principal);
    switch (proxy::check_policy(policy, access_.enabled(), *principal)) {
        case proxy::PolicyDecision::allow:
            break;
        case proxy::PolicyDecision::unauthenticated: {
            auto r = http::problem_response({401, "unauthorized", "Authentication required",
                                             "route " + route.name() + " needs a credential", {}});
            r.set("WWW-Authenticate", "Bearer realm=\"herald\"");
            co_await gateway::Forwarder::answer(x, std::move(r));
            co_return;
        }
        case proxy::PolicyDecision::forbidden: {
            access_.note_denied(*principal, "route", route.name(), req.remote_address);
            auto r = http::problem_response({403, "forbidden", "Forbidden",
                                             "the credential lacks a scope route " + route.name() + " requires", {}});
            co_await gateway::Forwarder::answer(x, std::move(r));
            co_return;
        }
    }
    if (auto limited = access_.limit(LimitKind::requests, *principal, req.remote_address, "")) {
        co_await gateway::Forwarder::answer(x, std::move(*limited));
        co_return;
    }
    if (route.index() < snapshot->route_limiters.size()) {
        if (auto& limiter = snapshot->route_limiters[route.index()]) {
            auto limited = access_.limit_with(*limiter, "route " + route.name(), *principal, req.remote_address,
                                              route.rate_limit_scope());
            if (limited) {
                co_await gateway::Forwarder::answer(x, std::move(*limited));
                co_return;
            }
        }
    }
    co_await forwarder_.forward(x, m.match(), *path, std::move(snapshot));
}

}  // namespace herald::server
