#include "gateway/gateway.hpp"

#include <random>
#include <set>

namespace herald::gateway {

namespace ssl = boost::asio::ssl;

proxy::Upstream* Snapshot::upstream(std::string_view name) const {
    auto it = upstreams.find(name);
    return it == upstreams.end() ? nullptr : it->second.get();
}

ssl::context* Snapshot::tls_context(std::string_view name) const {
    auto it = tls.find(name);
    return it == tls.end() ? nullptr : it->second.get();
}

namespace {

Result<std::shared_ptr<ssl::context>> make_tls_context(const config::UpstreamSettings& u) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    if (!u.verify) {
        ctx->set_verify_mode(ssl::verify_none, ec);
        return ctx;
    }
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (u.ca_file.empty())
        ctx->set_default_verify_paths(ec);
    else
        ctx->load_verify_file(u.ca_file, ec);
    if (ec)
        return make_error(Errc::invalid_argument, "upstreams." + u.name + ".ca_file: cannot load " +
                                                      (u.ca_file.empty() ? "the system's CA store" : u.ca_file) +
                                                      ": " + ec.message());
    return ctx;
}

}  // namespace

Gateway::Gateway(const Clock& clock) : clock_(clock) { state_.store(std::make_shared<const Snapshot>()); }

Result<std::shared_ptr<const Snapshot>> Gateway::build(std::vector<config::RouteSettings> routes,
                                                      std::map<std::string, config::UpstreamSettings> upstreams) const {
    auto s = std::make_shared<Snapshot>();
    std::set<std::string, std::less<>> names;
    std::random_device rd;
    for (auto& [name, spec] : upstreams) {
        auto u = proxy::Upstream::create(spec, clock_, (std::uint64_t{rd()} << 32) | rd());
        if (!u) return std::move(u).error();
        s->upstreams.emplace(name, std::shared_ptr<proxy::Upstream>(std::move(*u)));
        if (spec.tls) {
            auto ctx = make_tls_context(spec);
            if (!ctx) return std::move(ctx).error();
            s->tls.emplace(name, std::move(*ctx));
        }
        names.insert(name);
    }
    auto table = proxy::RouteTable::compile(routes, names);
    if (!table) return std::move(table).error();
    s->routes = std::move(*table);
    s->route_limiters.resize(s->routes.size());
    for (std::size_t i = 0; i < s->routes.size(); ++i) {
        const auto& rl = s->routes.route(i).spec().policy.rate_limit;
        if (!rl.enabled()) continue;
        security::RateLimitPolicy p;
        p.rate_per_second = rl.rate;
        p.burst = rl.burst ? rl.burst : std::max<std::uint32_t>(1, static_cast<std::uint32_t>(rl.rate));
        if (auto v = p.validate(); !v) {
            auto e = std::move(v).error();
            e.message = "routes[" + std::to_string(i) + "] (" + s->routes.route(i).name() +
                        ").rate_limit: " + e.message;
            return e;
        }
        s->route_limiters[s->routes.route(i).index()] = std::make_shared<security::SharedRateLimiter>(p);
    }
    s->route_settings = std::move(routes);
    s->upstream_settings = std::move(upstreams);
    s->generation = generation_.fetch_add(1, std::memory_order_relaxed) + 1;
    return std::shared_ptr<const Snapshot>(std::move(s));
}

Result<void> Gateway::apply(std::vector<config::RouteSettings> routes,
                            std::map<std::string, config::UpstreamSettings> upstreams) {
    auto s = build(std::move(routes), std::move(upstreams));
    if (!s) return std::move(s).error();
    state_.store(std::move(*s));
    return ok();
}

bool Gateway::is_reserved(std::string_view target) noexcept {
    auto path = target.substr(0, target.find('?'));
    auto under = [&](std::string_view prefix) {
        return path == prefix || (path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '/');
    };
    return under("/v1") || under("/portal") || path == "/asyncapi.json" || path == "/asyncapi.yaml" ||
           path == "/openapi.json" || path == "/healthz" || path == "/readyz";
}

}  // namespace herald::gateway
