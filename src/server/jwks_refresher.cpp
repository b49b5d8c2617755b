#include "server/jwks_refresher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace herald::server {

namespace asio = boost::asio;

namespace {
webhook::ClientOptions fetch_options() {
    webhook::ClientOptions o;
    // The URL comes from the operator's configuration, not from API users: no SSRF guard (identity providers
    // are often internal).
    o.ssrf_protection = false;
    o.request_timeout = std::chrono::seconds(10);
    o.user_agent = "Herald-JWKS/1";
    o.max_kept_body = 1 << 20;
    return o;
}
}  // namespace

JwksRefresher::JwksRefresher(asio::io_context& io, SecurityContext& context, const config::AuthSettings& auth)
    : io_(io), ctx_(context), client_(io, fetch_options()), timer_(io) {
    auto [verifier, api_keys] = ctx_.keys();
    for (auto& is : auth.issuers) {
        if (is.jwks_url.empty()) continue;
        auto s = std::make_unique<Source>(Source{is.issuer, security::JwksCache(is.jwks_url), {}});
        if (verifier)
            for (auto& ic : verifier->issuers())
                if (ic.issuer == is.issuer) s->static_keys = ic.keys;
        sources_.push_back(std::move(s));
    }
}

void JwksRefresher::start() {
    if (sources_.empty()) return;
    asio::co_spawn(io_, loop(), asio::detached);
}

void JwksRefresher::stop() {
    stopped_ = true;
    timer_.cancel();
    client_.shutdown();
}

void JwksRefresher::unknown_kid(std::string issuer, std::string kid) {
    asio::post(io_, [this, issuer = std::move(issuer), kid = std::move(kid)] {
        for (auto& s : sources_) {
            if (s->issuer != issuer) continue;
            if (s->cache.unknown_kid(kid, std::chrono::steady_clock::now()))
                asio::co_spawn(io_, fetch(*s), asio::detached);
        }
    });
}

asio::awaitable<void> JwksRefresher::loop() {
    while (!stopped_) {
        auto now = std::chrono::steady_clock::now();
        auto next = now + std::chrono::seconds(60);
        for (auto& s : sources_) {
            if (s->cache.begin_refresh(now)) co_await fetch(*s);
            next = std::min(next, s->cache.next_refresh());
        }
        timer_.expires_at(std::max(next, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> JwksRefresher::fetch(Source& s) {
    webhook::HttpRequest req;
    req.method = "GET";
    auto url = webhook::parse_url(s.cache.url());
    security::JwksFetchReport report;
    if (!url) {
        report = s.cache.on_fetch_result(0, "", "", std::chrono::steady_clock::now());
        std::cerr << "herald: jwks " << s.cache.url() << ": " << url.error().message << '\n';
        co_return;
    }
    req.url = std::move(*url);
    req.headers.emplace_back("Accept", "application/json");
    auto r = co_await client_.send(std::move(req));
    const auto now = std::chrono::steady_clock::now();
    if (!r) {
        report = s.cache.on_fetch_result(0, "", "", now);
        std::cerr << "herald: jwks " << s.cache.url() << ": " << r.error().message << " (keeping the last good keys)\n";
        co_return;
    }
    const std::string* cc = r->header("cache-control");
    report = s.cache.on_fetch_result(static_cast<int>(r->status), cc ? *cc : std::string(), r->body, now);
    if (report.outcome == security::JwksFetchOutcome::failed)
        std::cerr << "herald: jwks " << s.cache.url() << ": " << report.detail << " (keeping the last good keys)\n";
    for (auto& note : report.notes) std::cerr << "herald: jwks " << s.cache.url() << ": skipped " << note << '\n';
    if (report.outcome == security::JwksFetchOutcome::updated) publish();
}

void JwksRefresher::publish() {
    auto verifier = ctx_.keys().first;
    if (!verifier) return;
    security::Verifier fresh = *verifier;
    for (auto& s : sources_) {
        security::KeySet keys = s->static_keys;
        for (auto& k : s->cache.keys().keys()) keys.add(k);
        (void)fresh.set_keys(s->issuer, std::move(keys));
    }
    // Only the verifier: the API key store may be replaced meanwhile by the admin API (server/key_admin.hpp).
    ctx_.set_verifier(std::make_shared<const security::Verifier>(std::move(fresh)));
}

}  // namespace herald::server
