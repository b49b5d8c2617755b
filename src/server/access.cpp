#include "server/access.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "http/problem.hpp"
#include "security/crypto.hpp"
#include "server/observability.hpp"

namespace herald::server {

using security::Action;
using security::AuthError;
using security::Principal;
using security::PrincipalPtr;

const char* to_string(LimitKind k) noexcept {
    switch (k) {
        case LimitKind::requests: return "requests";
        case LimitKind::publish: return "publish";
        case LimitKind::subscribe: return "subscribe";
        case LimitKind::ws_messages: return "ws_messages";
    }
    return "?";
}

void SecurityContext::set_keys(std::shared_ptr<const security::Verifier> verifier,
                               std::shared_ptr<const security::ApiKeyStore> api_keys) {
    {
        std::lock_guard lock(keys_mutex_);
        verifier_ = std::move(verifier);
        api_keys_ = std::move(api_keys);
    }
    generation_.fetch_add(1, std::memory_order_acq_rel);
}

void SecurityContext::set_verifier(std::shared_ptr<const security::Verifier> verifier) {
    {
        std::lock_guard lock(keys_mutex_);
        verifier_ = std::move(verifier);
    }
    generation_.fetch_add(1, std::memory_order_acq_rel);
}

void SecurityContext::set_api_keys(std::shared_ptr<const security::ApiKeyStore> api_keys) {
    {
        std::lock_guard lock(keys_mutex_);
        api_keys_ = std::move(api_keys);
    }
    generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::pair<std::shared_ptr<const security::Verifier>, std::shared_ptr<const security::ApiKeyStore>>
SecurityContext::keys() const {
    std::lock_guard lock(keys_mutex_);
    return {verifier_, api_keys_};
}

namespace {

Result<std::string> read_file(const std::string& path, const std::string& key) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(Errc::invalid_argument, key + ": cannot read " + path, key);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Error at(const std::string& key, const Error& e) {
    return make_error(Errc::invalid_argument, key + ": " + e.message, key);
}

}  // namespace

bool SecurityContext::try_open_stream(const std::string& key) {
    std::lock_guard lock(streams_mutex_);
    auto& n = streams_[key];
    if (n >= max_streams_per_principal) {
        if (n == 0) streams_.erase(key);
        return false;
    }
    ++n;
    return true;
}

void SecurityContext::close_stream(const std::string& key) {
    std::lock_guard lock(streams_mutex_);
    auto it = streams_.find(key);
    if (it != streams_.end() && --it->second == 0) streams_.erase(it);
}

Result<std::unique_ptr<SecurityContext>> make_security_context(const config::Config& config) {
    auto ctx = std::make_unique<SecurityContext>();
    ctx->max_streams_per_principal = config.rate_limits.max_streams_per_principal;
    const auto& a = config.auth;
    ctx->enabled = a.enabled;
    ctx->allow_query_token = a.allow_query_token;
    ctx->cookie = a.cookie;
    ctx->authenticator.realm = a.realm;
    if (!a.anonymous_scopes.empty()) {
        auto scopes = security::parse_scopes_strict(a.anonymous_scopes);
        if (!scopes) return at("auth.anonymous_scopes", scopes.error());
        ctx->authenticator.allow_anonymous = true;
        ctx->authenticator.anonymous_scopes = std::move(*scopes);
    }
    if (!a.admin_token.empty()) ctx->admin_token_sha256 = security::sha256_hex(a.admin_token);
    if (!a.admin_token_sha256.empty()) {
        if (a.admin_token_sha256.size() != 64 ||
            a.admin_token_sha256.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
            return make_error(Errc::invalid_argument, "auth.admin_token_sha256: expected 64 hex digits",
                              "auth.admin_token_sha256");
        ctx->admin_token_sha256 = a.admin_token_sha256;
        for (auto& c : ctx->admin_token_sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }

    // JWT issuers and their keys.
    std::vector<security::IssuerConfig> issuers;
    for (std::size_t i = 0; i < a.issuers.size(); ++i) {
        const auto& is = a.issuers[i];
        const std::string path = "auth.jwt[" + std::to_string(i) + "]";
        security::IssuerConfig ic;
        ic.issuer = is.issuer;
        ic.audiences = is.audiences;
        ic.leeway = std::chrono::seconds(is.leeway_ms / 1000);
        ic.scope_claim = is.scope_claim;
        if (!is.algorithms.empty()) {
            auto algs = security::parse_alg_list(is.algorithms);
            if (!algs) return at(path + ".algorithms", algs.error());
            ic.allowed_algs = *algs;
        }
        for (std::size_t k = 0; k < is.keys.size(); ++k) {
            const auto& ks = is.keys[k];
            const std::string kp = path + ".keys[" + std::to_string(k) + "]";
            security::KeyOptions ko;
            ko.kid = ks.kid;
            if (!ks.alg.empty()) {
                auto alg = security::alg_from_string(ks.alg);
                if (!alg) return make_error(Errc::invalid_argument, kp + ".alg: unknown algorithm " + ks.alg, kp);
                ko.alg = *alg;
            }
            Result<security::Key> key = make_error(Errc::invalid_argument, "no key");
            if (!ks.pem.empty()) key = security::Key::from_pem(ks.pem, ko);
            else if (!ks.pem_file.empty()) {
                auto text = read_file(ks.pem_file, kp + ".pem_file");
                if (!text) return std::move(text).error();
                key = security::Key::from_pem(*text, ko);
            } else if (!ks.secret.empty()) {
                key = security::Key::hmac_secret(ks.secret, ko);
            } else {
                key = security::Key::from_jwk(std::string_view(ks.jwk));
            }
            if (!key) return at(kp, key.error());
            ic.keys.add(std::move(*key));
        }
        if (!is.jwks_file.empty()) {
            auto text = read_file(is.jwks_file, path + ".jwks_file");
            if (!text) return std::move(text).error();
            auto set = security::parse_jwks(*text);
            if (!set) return at(path + ".jwks_file", set.error());
            for (auto& key : set->keys.keys()) ic.keys.add(key);
        }
        issuers.push_back(std::move(ic));
    }
    std::shared_ptr<const security::Verifier> verifier;
    if (!issuers.empty()) {
        auto v = security::Verifier::create(std::move(issuers));
        if (!v) return at("auth.jwt", v.error());
        verifier = std::make_shared<const security::Verifier>(std::move(*v));
    }

    // API keys.
    auto store = std::make_shared<security::ApiKeyStore>();
    for (std::size_t i = 0; i < a.api_keys.size(); ++i) {
        const auto& k = a.api_keys[i];
        const std::string path = "auth.api_keys[" + std::to_string(i) + "]";
        auto scopes = security::parse_scopes_strict(k.scopes);
        if (!scopes) return at(path + ".scopes", scopes.error());
        auto now = std::chrono::system_clock::now();
        if (!k.key.empty()) {
            auto r = store->add_key(k.name, k.key, std::move(*scopes), now);
            if (!r) return at(path, r.error());
        } else {
            security::ApiKeyRecord rec;
            rec.name = k.name;
            rec.hash_hex = k.key_sha256;
            for (auto& c : rec.hash_hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            rec.scopes = std::move(*scopes);
            rec.created = now;
            auto r = store->add(std::move(rec));
            if (!r) return at(path, r.error());
        }
    }
    ctx->set_keys(std::move(verifier), store->size() ? std::shared_ptr<const security::ApiKeyStore>(store) : nullptr);

    // Rate limits.
    const auto& rl = config.rate_limits;
    const config::RateLimitSettings* settings[kLimitKinds] = {&rl.requests, &rl.publish, &rl.subscribe,
                                                              &rl.ws_messages};
    for (std::size_t i = 0; i < kLimitKinds; ++i) {
        if (!settings[i]->enabled()) continue;
        security::RateLimitPolicy p;
        p.rate_per_second = settings[i]->rate;
        p.burst = settings[i]->burst ? settings[i]->burst
                                     : static_cast<std::uint32_t>(std::max(1.0, settings[i]->rate));
        if (auto v = p.validate(); !v)
            return at(std::string("rate_limits.") + to_string(static_cast<LimitKind>(i)), v.error());
        ctx->limits[i] = std::make_unique<SharedLimiter>(p);
    }
    return ctx;
}

Access::Access(SecurityContext& context, const Clock& clock)
    : ctx_(context),
      clock_(clock),
      authenticator_(context.authenticator, context.keys().first, context.keys().second, clock) {
    generation_ = ctx_.generation();
    auto p = std::make_shared<Principal>();
    p->subject = "anonymous";
    p->scopes = {{Action::publish, "*"}, {Action::subscribe, "*"}, {Action::admin, ""}};
    everyone_ = std::move(p);
}

void Access::refresh_keys() {
    auto g = ctx_.generation();
    if (g == generation_) return;
    generation_ = g;
    auto [verifier, api_keys] = ctx_.keys();
    authenticator_.set_verifier(std::move(verifier));
    authenticator_.set_api_keys(std::move(api_keys));
}

void Access::note_denied(const Principal& p, std::string_view action, std::string_view target,
                         std::string_view address) {
    ctx_.stats.authz_denied.fetch_add(1, std::memory_order_relaxed);
    if (ctx_.events) ctx_.events->authorization_denied(principal_label(p), action, target, address);
}

void Access::note_limited(LimitKind counted_as, std::string_view limit, const Principal& p, std::string_view scope,
                          std::string_view address) {
    ctx_.stats.rate_limited[static_cast<std::size_t>(counted_as)].fetch_add(1, std::memory_order_relaxed);
    if (ctx_.events) ctx_.events->rate_limited(principal_label(p), limit, scope, address);
}

http::Response Access::refusal(const AuthError& e, const http::Request& req, std::string_view credential) {
    ctx_.stats.authn_failures[static_cast<std::size_t>(e.reason) % 32].fetch_add(1, std::memory_order_relaxed);
    // The path, not the query: a query may carry the very token that failed.
    if (ctx_.events)
        ctx_.events->authentication_failed(security::to_string(e.reason), static_cast<unsigned>(e.status), credential,
                                           req.remote_address, req.path);
    const char* kind = e.status == 403 ? "forbidden" : e.status == 400 ? "invalid-credentials"
                       : e.status == 503 ? "keys-unavailable" : "unauthorized";
    const char* title = e.status == 403 ? "Forbidden" : e.status == 400 ? "Bad request"
                        : e.status == 503 ? "Service unavailable" : "Unauthorized";
    auto r = http::problem_response(http::Problem{static_cast<unsigned>(e.status), kind, title, e.detail,
                                                  std::string(security::to_string(e.reason))});
    if (!e.www_authenticate.empty()) r.set("WWW-Authenticate", e.www_authenticate);
    if (e.status == 503) r.set("Retry-After", "5");
    return r;
}

namespace {
std::string_view cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        auto semi = header.find(';');
        auto item = header.substr(0, semi);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        auto eq = item.find('=');
        if (eq != std::string_view::npos && item.substr(0, eq) == name) return item.substr(eq + 1);
        if (semi == std::string_view::npos) break;
        header.remove_prefix(semi + 1);
    }
    return {};
}
}  // namespace

Access::Outcome Access::authenticate(const http::Request& req, bool browser) {
    if (!ctx_.enabled) return everyone_;
    refresh_keys();
    security::Credentials c;
    c.authorization = req.header("Authorization");
    c.api_key = req.header("X-API-Key");
    std::optional<std::string> query_token;
    if (browser && ctx_.allow_query_token) {
        query_token = req.query_param("access_token");
        if (query_token) c.query_token = *query_token;
        c.allow_query_token = true;
    } else if (req.query.find("access_token=") != std::string::npos) {
        // Present but not allowed here: let the authenticator say so rather than ignoring it silently.
        query_token = req.query_param("access_token");
        if (query_token) c.query_token = *query_token;
    }
    if (!ctx_.cookie.empty()) {
        c.cookie_token = cookie_value(req.header("Cookie"), ctx_.cookie);
        c.allow_cookie_token = browser;
    }
    auto r = authenticator_.authenticate(c);
    if (!r) {
        // Which kind of credential failed (for the security log); never the credential.
        std::string_view credential = !c.authorization.empty() ? "authorization"
                                      : !c.api_key.empty()     ? "api_key"
                                      : query_token            ? "query"
                                      : !c.cookie_token.empty() ? "cookie"
                                                                : "none";
        return refusal(r.error(), req, credential);
    }
    ctx_.stats.authenticated.fetch_add(1, std::memory_order_relaxed);
    return std::move(r).value();
}

security::Expected<PrincipalPtr, AuthError> Access::authenticate_token(std::string_view token) {
    refresh_keys();
    std::string header = "Bearer " + std::string(token);
    security::Credentials c;
    c.authorization = header;
    return authenticator_.authenticate(c);
}

bool Access::allows(const Principal& p, Action action, std::string_view topic) const {
    return !ctx_.enabled || security::allows(p, action, topic);
}

std::optional<http::Response> Access::authorize(const Principal& p, Action action, std::string_view topic) {
    if (!ctx_.enabled) return std::nullopt;
    auto r = authenticator_.authorize(p, action, topic);
    if (r) return std::nullopt;
    note_denied(p, security::to_string(action), topic, "");
    auto e = r.error();
    auto res = http::problem_response(
        http::Problem{403, "forbidden", "Forbidden", e.detail, std::string(security::to_string(e.reason))});
    if (!e.www_authenticate.empty()) res.set("WWW-Authenticate", e.www_authenticate);
    return res;
}

std::optional<security::RateDecision> Access::refused(LimitKind kind, const Principal& p, const std::string& address,
                                                      std::string_view scope, std::uint32_t n) {
    auto& limiter = ctx_.limits[static_cast<std::size_t>(kind)];
    if (!limiter) return std::nullopt;
    auto key = security::make_rate_limit_key(p, address, std::string(to_string(kind)) + ":" + std::string(scope));
    auto d = limiter->take(key, n);
    if (d.allowed) return std::nullopt;
    note_limited(kind, to_string(kind), p, scope, address);
    return d;
}

std::optional<websocket::Denial> Access::limit_denial(LimitKind kind, const Principal& p, const std::string& address,
                                                      std::string_view scope, std::uint32_t n) {
    auto d = refused(kind, p, address, scope, n);
    if (!d) return std::nullopt;
    const auto& policy = ctx_.limits[static_cast<std::size_t>(kind)]->policy();
    return websocket::Denial{429, "rate-limited", "Too many requests",
                             std::string("the ") + to_string(kind) + " rate limit (" +
                                 security::format_ratelimit_policy(policy) + ") is exceeded; retry in " +
                                 security::format_retry_after(*d) + " s"};
}

std::optional<http::Response> Access::limit(LimitKind kind, const Principal& p, const std::string& address,
                                            std::string_view scope, std::uint32_t n) {
    auto d = refused(kind, p, address, scope, n);
    if (!d) return std::nullopt;
    const auto& policy = ctx_.limits[static_cast<std::size_t>(kind)]->policy();
    auto r = http::problem_response(http::Problem{
        429, "rate-limited", "Too many requests",
        std::string("the ") + to_string(kind) + " rate limit is exceeded; retry after " +
            security::format_retry_after(*d) + " s"});
    r.set("Retry-After", security::format_retry_after(*d));
    r.set("RateLimit-Policy", security::format_ratelimit_policy(policy));
    r.set("RateLimit", security::format_ratelimit(*d));
    return r;
}

std::optional<http::Response> Access::limit_with(SharedLimiter& limiter, std::string_view what, const Principal& p,
                                                 const std::string& address, std::string_view scope,
                                                 std::uint32_t n) {
    auto key = security::make_rate_limit_key(p, address, scope);
    auto d = limiter.take(key, n);
    if (d.allowed) return std::nullopt;
    note_limited(LimitKind::requests, what, p, scope, address);
    auto r = http::problem_response(http::Problem{
        429, "rate-limited", "Too many requests",
        "the " + std::string(what) + " rate limit is exceeded; retry after " + security::format_retry_after(d) +
            " s"});
    r.set("Retry-After", security::format_retry_after(d));
    r.set("RateLimit-Policy", security::format_ratelimit_policy(limiter.policy()));
    r.set("RateLimit", security::format_ratelimit(d));
    return r;
}

std::optional<http::Response> Access::authorize_admin(const http::Request& req) {
    if (!ctx_.enabled) return std::nullopt;
    auto auth = req.header("Authorization");
    if (!ctx_.admin_token_sha256.empty() && auth.size() > 7 && http::iequals(auth.substr(0, 7), "Bearer ")) {
        auto presented = security::sha256_hex(auth.substr(7));
        if (security::constant_time_equal(presented, ctx_.admin_token_sha256)) return std::nullopt;
    }
    auto who = authenticate(req, false);
    if (auto* res = std::get_if<http::Response>(&who)) return std::move(*res);
    auto& p = *std::get<PrincipalPtr>(who);
    if (security::allows(p, Action::admin, "")) return std::nullopt;
    if (p.kind == security::PrincipalKind::anonymous) {
        // No credential at all: ask for one rather than refusing an identity that was never presented.
        auto r = http::problem_response(http::Problem{401, "unauthorized", "Unauthorized",
                                                      "the admin API needs the admin token or the `admin` scope",
                                                      "missing_credentials"});
        r.set("WWW-Authenticate", authenticator_.challenge());
        return r;
    }
    note_denied(p, "admin", "", req.remote_address);
    auto r = http::problem_response(
        http::Problem{403, "forbidden", "Forbidden", "the admin API needs the admin token or the `admin` scope",
                      "insufficient_scope"});
    r.set("WWW-Authenticate", authenticator_.challenge("insufficient_scope", "", "admin"));
    return r;
}

Access::StreamLease Access::open_stream(const Principal& p, const std::string& address) {
    if (ctx_.max_streams_per_principal == 0) return {};
    std::string key = p.rate_limit_key();
    if (key.empty()) key = "address:" + address;
    if (!ctx_.try_open_stream(key)) {
        note_limited(LimitKind::subscribe, "streams", p, "", address);
        return {nullptr, websocket::Denial{429, "too-many-streams", "Too many streams",
                                           "this principal already has " +
                                               std::to_string(ctx_.max_streams_per_principal) +
                                               " open streams and subscriptions, the limit"}};
    }
    // The lease releases the count wherever the stream ends (any worker thread).
    SecurityContext* ctx = &ctx_;
    auto lease = std::shared_ptr<void>(nullptr, [ctx, key](void*) { ctx->close_stream(key); });
    return {std::move(lease), std::nullopt};
}

std::optional<http::Response> Access::open_stream_response(const Principal& p, const std::string& address,
                                                           std::shared_ptr<void>& lease) {
    auto l = open_stream(p, address);
    if (!l.denial) {
        lease = std::move(l.lease);
        return std::nullopt;
    }
    auto r = http::problem_response(http::Problem{429, l.denial->kind, l.denial->title, l.denial->detail});
    r.set("Retry-After", "1");
    return r;
}

namespace {

class Guard final : public websocket::SessionGuard {
public:
    Guard(Access& access, PrincipalPtr principal, std::string address)
        : access_(access), principal_(std::move(principal)), address_(std::move(address)) {}

    Admission admit_subscription(std::string_view topic) override {
        if (!access_.allows(*principal_, Action::subscribe, topic)) {
            access_.note_denied(*principal_, "subscribe", topic, address_);
            return {websocket::Denial{403, "forbidden", "Forbidden",
                                      "this principal has no subscribe scope for topic '" + std::string(topic) + "'"},
                    nullptr};
        }
        if (auto d = access_.limit_denial(LimitKind::subscribe, *principal_, address_, topic)) return {d, nullptr};
        auto lease = access_.open_stream(*principal_, address_);
        return {std::move(lease.denial), std::move(lease.lease)};
    }
    std::optional<websocket::Denial> may_publish(std::string_view topic, std::size_t events) override {
        if (!access_.allows(*principal_, Action::publish, topic)) {
            access_.note_denied(*principal_, "publish", topic, address_);
            return websocket::Denial{403, "forbidden", "Forbidden",
                                     "this principal has no publish scope for topic '" + std::string(topic) + "'"};
        }
        return access_.limit_denial(LimitKind::publish, *principal_, address_, topic,
                                    static_cast<std::uint32_t>(events));
    }
    std::optional<websocket::Denial> on_message() override {
        return access_.limit_denial(LimitKind::ws_messages, *principal_, address_, "");
    }
    std::optional<std::chrono::system_clock::time_point> expires_at() const override {
        return principal_->expires_at;
    }
    std::optional<websocket::Denial> reauthenticate(std::string_view token) override {
        auto r = access_.authenticate_token(token);
        if (!r) return websocket::Denial{401, "unauthorized", "Unauthorized", r.error().detail};
        auto& fresh = r.value();
        if (fresh->rate_limit_key() != principal_->rate_limit_key())
            return websocket::Denial{403, "forbidden", "Forbidden",
                                     "the new token belongs to another principal; open a new connection for it"};
        principal_ = fresh;
        return std::nullopt;
    }

private:
    Access& access_;
    PrincipalPtr principal_;
    std::string address_;
};

}  // namespace

std::unique_ptr<websocket::SessionGuard> Access::session_guard(PrincipalPtr principal, std::string address) {
    if (!ctx_.enabled && !ctx_.max_streams_per_principal && !ctx_.limits[static_cast<std::size_t>(LimitKind::subscribe)] &&
        !ctx_.limits[static_cast<std::size_t>(LimitKind::publish)] &&
        !ctx_.limits[static_cast<std::size_t>(LimitKind::ws_messages)])
        return nullptr;
    return std::make_unique<Guard>(*this, std::move(principal), std::move(address));
}

}  // namespace herald::server
