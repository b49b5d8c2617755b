#pragma once
// The edge's access control (DESIGN.md §6) as the data plane and the admin plane use it: who is asking
// (authentication), may they (authorization per topic), how often (rate limits), and what to answer when not
// (401/403/429/503 problem+json with WWW-Authenticate, Retry-After and RateLimit headers).
//
// Shared state (SecurityContext) is built once from the configuration: the JWT verifier and API key store
// (swapped when a JWKS refresh brings new keys), the rate limiters (shared by every worker, so a limit is a
// limit whatever worker a connection landed on), and the counters. Each worker has its own Access, because the
// Authenticator's cache of verified tokens is single-threaded.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "base/clock.hpp"
#include "config/config.hpp"
#include "http/message.hpp"
#include "security/authenticator.hpp"
#include "security/rate_limiter.hpp"
#include "server/security_events.hpp"
#include "websocket/session.hpp"

namespace herald::server {

using SharedLimiter = security::SharedRateLimiter;

enum class LimitKind { requests, publish, subscribe, ws_messages };
inline constexpr std::size_t kLimitKinds = 4;
const char* to_string(LimitKind k) noexcept;

struct SecurityStats {
    std::array<std::atomic<std::uint64_t>, 32> authn_failures{};  // by security::Reason
    std::atomic<std::uint64_t> authz_denied{0};
    std::array<std::atomic<std::uint64_t>, kLimitKinds> rate_limited{};
    std::atomic<std::uint64_t> authenticated{0};
};

struct SecurityContext {
    bool enabled = false;
    security::AuthenticatorOptions authenticator;
    bool allow_query_token = false;
    std::string cookie;
    std::string admin_token_sha256;  // lower-case hex; empty: no admin token
    std::array<std::unique_ptr<SharedLimiter>, kLimitKinds> limits;  // null: that limit is off
    SecurityStats stats;
    std::shared_ptr<SecurityEventLog> events;  // null: security events are counted, not logged
    std::size_t max_streams_per_principal = 0;  // 0: unlimited

    // Open streams per principal (or client address when anonymous), across workers.
    bool try_open_stream(const std::string& key);
    void close_stream(const std::string& key);

    // Keys change (JWKS refresh) while workers read them: readers copy the pointers under the mutex, and a
    // generation number tells each worker's Access to pick up the new set.
    void set_keys(std::shared_ptr<const security::Verifier> verifier,
                  std::shared_ptr<const security::ApiKeyStore> api_keys);
    std::pair<std::shared_ptr<const security::Verifier>, std::shared_ptr<const security::ApiKeyStore>> keys() const;
    // One half of the pair, leaving the other as it is now: the JWKS refresher and the API keys admin change
    // their half from different threads, and a read-modify-write of the pair would lose the other's change.
    void set_verifier(std::shared_ptr<const security::Verifier> verifier);
    void set_api_keys(std::shared_ptr<const security::ApiKeyStore> api_keys);
    std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

private:
    std::mutex streams_mutex_;
    std::unordered_map<std::string, std::size_t> streams_;
    mutable std::mutex keys_mutex_;
    std::shared_ptr<const security::Verifier> verifier_;
    std::shared_ptr<const security::ApiKeyStore> api_keys_;
    std::atomic<std::uint64_t> generation_{0};
};

// Builds the shared context from the configuration: keys from PEM/JWK/secret/JWKS file (a JWKS URL issuer starts
// without keys; the refresher fills them), API keys, limits. Errors name the configuration key.
Result<std::unique_ptr<SecurityContext>> make_security_context(const config::Config& config);

// One worker's access control.
class Access {
public:
    Access(SecurityContext& context, const Clock& clock);

    using Outcome = std::variant<security::PrincipalPtr, http::Response>;
    // `browser` routes (SSE, WebSocket) also accept ?access_token= and the auth cookie when the config allows.
    Outcome authenticate(const http::Request& request, bool browser);
    // nullopt when allowed; else the 403 to answer.
    std::optional<http::Response> authorize(const security::Principal& principal, security::Action action,
                                            std::string_view topic);
    bool allows(const security::Principal& principal, security::Action action, std::string_view topic) const;
    // nullopt when allowed; else the 429 to answer. `n` tokens (events of a batch).
    std::optional<http::Response> limit(LimitKind kind, const security::Principal& principal,
                                        const std::string& address, std::string_view scope, std::uint32_t n = 1);
    // The same 429 for a limiter that is not one of the kinds above (a REST route's own limit); `what` names it
    // in the problem detail ("route orders").
    std::optional<http::Response> limit_with(SharedLimiter& limiter, std::string_view what,
                                             const security::Principal& principal, const std::string& address,
                                             std::string_view scope, std::uint32_t n = 1);
    // The same decision for places that answer in their own format (WebSocket `error` messages).
    std::optional<websocket::Denial> limit_denial(LimitKind kind, const security::Principal& principal,
                                                  const std::string& address, std::string_view scope,
                                                  std::uint32_t n = 1);
    // The admin listener: the admin token or a principal with the `admin` scope. nullopt when allowed.
    std::optional<http::Response> authorize_admin(const http::Request& request);
    // A lease on one of the principal's streams (SSE, WebSocket subscription): null when streams are not
    // limited; a denial (429) at the limit. Released when the lease is destroyed, on any thread.
    struct StreamLease {
        std::shared_ptr<void> lease;
        std::optional<websocket::Denial> denial;
    };
    StreamLease open_stream(const security::Principal& principal, const std::string& address);
    // The same for HTTP answers.
    std::optional<http::Response> open_stream_response(const security::Principal& principal,
                                                       const std::string& address, std::shared_ptr<void>& lease);
    // A guard for one WebSocket connection opened by `principal`.
    std::unique_ptr<websocket::SessionGuard> session_guard(security::PrincipalPtr principal, std::string address);
    // Re-authenticates a bare token (WebSocket `auth`).
    security::Expected<security::PrincipalPtr, security::AuthError> authenticate_token(std::string_view token);

    bool enabled() const noexcept { return ctx_.enabled; }
    SecurityContext& context() noexcept { return ctx_; }

    // Every refusal goes through these two: counted in the metrics and logged as a security event.
    // `action` is a scope action ("publish", "subscribe", "admin") or "route"; `target` the topic or route.
    void note_denied(const security::Principal& principal, std::string_view action, std::string_view target,
                     std::string_view address);
    void note_limited(LimitKind counted_as, std::string_view limit, const security::Principal& principal,
                      std::string_view scope, std::string_view address);

private:
    // Takes n tokens from the limiter of `kind`; the decision when refused (counted), nullopt when allowed or off.
    std::optional<security::RateDecision> refused(LimitKind kind, const security::Principal& principal,
                                                  const std::string& address, std::string_view scope,
                                                  std::uint32_t n);
    void refresh_keys();
    http::Response refusal(const security::AuthError& e, const http::Request& request, std::string_view credential);

    SecurityContext& ctx_;
    const Clock& clock_;
    security::Authenticator authenticator_;
    std::uint64_t generation_ = 0;
    security::PrincipalPtr everyone_;  // auth off: every scope
};

}  // namespace herald::server
