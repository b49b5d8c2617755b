#pragma once
// Turns the credentials of one request into a Principal, or into the exact 400/401/403/503 answer
// to send.
//
// Where credentials come from (the HTTP layer extracts them; this class never parses a request):
//   - `Authorization: Bearer <token>` (RFC 6750 §2.1);
//   - `X-API-Key: <key>`;
//   - an `access_token` query parameter (RFC 6750 §2.3) or a cookie, for browsers' EventSource,
//     which cannot set headers (DESIGN.md §6) — only where the route's configuration allows it
//     (flags in Credentials).
// A bearer, query or cookie token that starts with "hk_" is an API key, not a JWT, so an
// EventSource can authenticate with either.
//
// Precedence: the explicit methods (Authorization, X-API-Key, query parameter) are exclusive —
// presenting two is a 400 invalid_request (RFC 6750 §2: a client must not use more than one
// method). The cookie is used only when none of them is present, since browsers attach cookies to
// every request without being asked. A query or cookie token on a route that does not allow it is
// ignored, and reported as credential_not_allowed when there is nothing else.
//
// Answers (AuthError::status): 400 invalid_request; 401 for missing or bad credentials, with a
// `WWW-Authenticate: Bearer realm="..."` challenge (RFC 6750 §3; error="invalid_token" when a
// credential was presented); 403 insufficient_scope from authorize(); 503 keys_unavailable when a
// JWKS issuer has no keys yet (the fault is ours, not the client's; retry later).
//
// Performance: verified JWTs are cached by the SHA-256 of the token until their exp (plus the
// issuer's leeway), at most cache_capacity entries (LRU), so a client repeating its token costs one
// hash and one lookup instead of a signature verification. The cache holds hashes, never tokens.
// Failures are not cached.
//
// Threading: an Authenticator is not thread-safe (its cache mutates on every call); give each
// worker its own, sharing one std::shared_ptr<const Verifier> and one std::shared_ptr<const
// ApiKeyStore>. To change keys, build new ones and call set_verifier / set_api_keys on each
// worker's Authenticator (from its own thread).

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "security/api_keys.hpp"
#include "security/crypto.hpp"
#include "security/error.hpp"
#include "security/jwt.hpp"
#include "security/principal.hpp"
#include "security/scopes.hpp"

namespace herald::security {

// The credentials of one request; an empty view means "absent".
struct Credentials {
    std::string_view authorization{};  // the Authorization header value
    std::string_view api_key{};        // the X-API-Key header value
    std::string_view query_token{};    // the access_token query parameter, already percent-decoded
    std::string_view cookie_token{};   // the value of the configured auth cookie
    bool allow_query_token = false;    // the route accepts query_token
    bool allow_cookie_token = false;   // the route accepts cookie_token
};

struct AuthError {
    int status = 401;  // 400, 401, 403 or 503
    Reason reason = Reason::missing_credentials;
    std::string
        detail{};  // safe to show the client (problem+json detail); never holds the credential
    std::string www_authenticate{};  // WWW-Authenticate value for 400/401/403; empty for 503
};

struct AuthenticatorOptions {
    std::string realm = "herald";
    // When no credential at all is presented: refuse (401), or admit an anonymous principal with
    // these scopes. A presented but invalid credential is always refused, never downgraded to
    // anonymous.
    bool allow_anonymous = false;
    std::vector<Scope> anonymous_scopes{};
    std::size_t cache_capacity = 10'000;
    // Upper bound on how long a verified token stays cached, whatever its exp: bounds how long a
    // token keeps working after its key is removed from configuration without set_verifier being
    // called.
    std::chrono::seconds max_cache_ttl{600};
    // Called when a JWT names a kid its issuer's key set lacks (arguments: issuer, kid), so the
    // integrator can ask the JwksCache for an early refetch (JwksCache::unknown_kid). Optional.
    std::function<void(const std::string& issuer, const std::string& kid)> on_unknown_kid{};
};

// Counters for metrics. Plain integers: the Authenticator is single-threaded.
struct AuthenticatorStats {
    std::uint64_t cache_hits = 0;
    std::uint64_t cache_misses = 0;
    std::uint64_t cache_evictions = 0;
    std::uint64_t jwt_ok = 0;
    std::uint64_t api_key_ok = 0;
    std::uint64_t anonymous = 0;
    std::uint64_t failures =
        0;  // break down by AuthError::reason at the call site for labelled metrics
};

class Authenticator {
public:
    // `verifier` null: JWTs are not accepted. `api_keys` null: API keys are not accepted. The clock
    // must outlive the Authenticator.
    Authenticator(AuthenticatorOptions options, std::shared_ptr<const Verifier> verifier,
                  std::shared_ptr<const ApiKeyStore> api_keys, const Clock& clock);
    // Not copyable: the cache index points into the cache list. Movable (list iterators survive a
    // move).
    Authenticator(const Authenticator&) = delete;
    Authenticator& operator=(const Authenticator&) = delete;
    Authenticator(Authenticator&&) = default;

    Expected<PrincipalPtr, AuthError> authenticate(const Credentials& credentials);

    // 403 insufficient_scope (with the scope that would have been needed in the challenge) unless
    // `principal` may do `action` on `topic`.
    Expected<void, AuthError> authorize(const Principal& principal, Action action,
                                        std::string_view topic) const;

    // Replace the verifier or key store (key rotation, SIGHUP reload). set_verifier empties the JWT
    // cache so that tokens signed by removed keys stop working at once.
    void set_verifier(std::shared_ptr<const Verifier> verifier);
    void set_api_keys(std::shared_ptr<const ApiKeyStore> api_keys);
    void clear_cache();

    std::size_t cache_size() const noexcept { return cache_index_.size(); }
    const AuthenticatorStats& stats() const noexcept { return stats_; }
    const AuthenticatorOptions& options() const noexcept { return options_; }

    // The challenge for a 401/400/403 (exposed for tests and for handlers that refuse on their
    // own): `Bearer realm="herald"` plus error, error_description and scope when given. Quotes,
    // backslashes and control characters in the description are replaced, as RFC 6750 §3 restricts
    // its characters.
    std::string challenge(std::string_view error = {}, std::string_view description = {},
                          std::string_view scope = {}) const;

private:
    struct CacheEntry {
        Sha256Digest digest;
        PrincipalPtr principal;
        std::chrono::system_clock::time_point valid_until;
    };
    using CacheList = std::list<CacheEntry>;  // most recently used first
    struct DigestHash {
        std::size_t operator()(const Sha256Digest& d) const noexcept;
    };

    Expected<PrincipalPtr, AuthError> authenticate_token(std::string_view token);
    Expected<PrincipalPtr, AuthError> authenticate_jwt(std::string_view token);
    Expected<PrincipalPtr, AuthError> authenticate_api_key(std::string_view key);
    AuthError fail(int status, Reason reason, std::string detail, std::string_view error_code);

    AuthenticatorOptions options_;
    std::shared_ptr<const Verifier> verifier_;
    std::shared_ptr<const ApiKeyStore> api_keys_;
    const Clock& clock_;
    PrincipalPtr anonymous_;
    CacheList cache_;
    std::unordered_map<Sha256Digest, CacheList::iterator, DigestHash> cache_index_;
    AuthenticatorStats stats_;
};

}  // namespace herald::security
