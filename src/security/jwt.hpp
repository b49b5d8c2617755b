#pragma once
// JSON Web Tokens in JWS compact serialization (RFC 7519, RFC 7515): parsing, signature
// verification and claim checks, and the Verifier that ties them to configured issuers.
//
// Order of checks in Verifier::verify, and why:
//   1. size limits, before any decoding (a 1 MB token must cost nothing);
//   2. structure: exactly three base64url segments, header and payload JSON objects, `alg` a
//      string; `crit` refused (Herald implements no JWS extension, and RFC 7515 §4.1.11 says to
//      reject what is not understood); `jwk`, `jku`, `x5u`, `x5c` header parameters are ignored —
//      keys come only from configuration, never from the token being verified;
//   3. `alg`: "none" refused always, unknown algorithms refused;
//   4. issuer chosen by the (still unverified) `iss`; the alg must be in the issuer's allowed set;
//   5. key chosen by `kid`, or every key of the issuer that allows the alg when the token has no
//      kid (at most kMaxKeyCandidates); the alg must be allowed by the chosen key (algorithm
//      confusion);
//   6. signature;
//   7. claims: exp, nbf, iat with leeway, aud, required claims, then the scope claim is read.
// Claims are judged only after the signature, so an unsigned token learns nothing about the policy.
//
// Duplicate member names in the header or claims: Boost.JSON keeps the last one, which RFC 7515
// §5.2 allows.
//
// Threading: parse_jwt, verify_signature and check_claims are pure functions. A Verifier is
// immutable once built except through set_keys; share a const Verifier between threads
// (std::shared_ptr<const Verifier>) and build a new one (or copy and set_keys) when keys change.

#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "security/alg.hpp"
#include "security/error.hpp"
#include "security/jwk.hpp"
#include "security/scopes.hpp"

namespace herald::security {

struct JwtLimits {
    std::size_t max_token_bytes = 16 * 1024;  // the whole compact token
    std::size_t max_header_bytes = 4 * 1024;  // the base64url header segment
};

// A token after parsing and before verification: nothing in it can be trusted yet.
struct Jwt {
    Alg alg = Alg::hs256;
    std::string kid;             // empty when the header has none
    std::string typ;             // empty when the header has none
    boost::json::object header;  // the decoded JOSE header
    boost::json::object claims;  // the decoded payload
    std::string signing_input;   // "<header segment>.<payload segment>" exactly as received
    std::string signature;       // decoded signature bytes
};

// Parses a compact JWS. Errors: token_too_large, malformed, alg_none, unsupported_alg.
Expected<Jwt, JwtError> parse_jwt(std::string_view token, const JwtLimits& limits = {});

// Verifies the signature of `jwt` with `key`. Fails with alg_not_allowed when the key does not
// allow jwt.alg (whatever the signature), with bad_signature otherwise. HMAC comparison is
// constant-time; ES256/ES384 signatures must be exactly 64/96 bytes of r||s (RFC 7518 §3.4) and are
// converted to DER for OpenSSL; PS* use the hash length as salt length (RFC 7518 §3.5).
Expected<void, JwtError> verify_signature(const Jwt& jwt, const Key& key);

// One trusted token issuer.
struct IssuerConfig {
    // Compared exactly with `iss`. An empty string matches tokens that have no `iss` claim (a
    // shared-secret setup with no identity provider); at most one issuer may be empty.
    std::string issuer{};
    // `aud` must name one of these (string or array form, any match). When empty, tokens that carry
    // an `aud` are refused (RFC 7519 §4.1.3: a recipient that does not identify itself with the
    // audience must reject); tokens without `aud` pass.
    std::vector<std::string> audiences{};
    // The verification keys. May start empty for a JWKS issuer and be filled by Verifier::set_keys.
    KeySet keys{};
    // Allowed clock skew for exp, nbf and iat.
    std::chrono::seconds leeway{60};
    // Algorithms accepted from this issuer (further narrowed by each key's own set).
    AlgSet allowed_algs = AlgSet::all();
    // The claim holding scopes: a space-separated string (OAuth "scope") or an array of strings
    // ("scp").
    std::string scope_claim = "scope";
    // Claims that must be present (any JSON type), beyond exp.
    std::vector<std::string> required_claims{};
    // Refuse tokens without `exp`. On by default: a token that never expires cannot be revoked by
    // waiting.
    bool require_exp = true;
};

// Checks the registered claims of an already verified token against an issuer's policy at time
// `now`. Errors: expired, not_yet_valid, issued_in_future, wrong_audience, missing_claim,
// invalid_claim. Does not look at `iss` (the Verifier chose the issuer by it).
Expected<void, JwtError> check_claims(const boost::json::object& claims, const IssuerConfig& issuer,
                                      std::chrono::system_clock::time_point now);

// What a successful verification yields.
struct VerifiedJwt {
    std::string issuer;
    std::string subject;  // `sub`; when absent, `client_id`, then `azp`; else empty
    std::string kid;      // the kid of the key that verified it (may be empty)
    Alg alg = Alg::hs256;
    std::optional<std::chrono::system_clock::time_point> expires_at;  // `exp`, without leeway
    std::chrono::seconds leeway{0};                                   // the issuer's leeway
    std::vector<Scope> scopes;  // Herald scopes from the scope claim
    std::shared_ptr<const boost::json::object> claims;
};

inline constexpr std::size_t kMaxKeyCandidates = 8;

class Verifier {
public:
    // Errc::invalid_argument (attribute "issuer") on duplicate issuers, more than one empty issuer
    // or an issuer whose allowed_algs is empty.
    static Result<Verifier> create(std::vector<IssuerConfig> issuers, JwtLimits limits = {});

    // Verifies a compact token at wall-clock time `now` (the caller reads its Clock).
    Expected<VerifiedJwt, JwtError> verify(std::string_view token,
                                           std::chrono::system_clock::time_point now) const;

    // Replaces the keys of one issuer (JWKS refresh). Errc::not_found if no such issuer. Not
    // thread-safe: call it on a private copy, then publish the copy.
    Result<void> set_keys(std::string_view issuer, KeySet keys);

    const std::vector<IssuerConfig>& issuers() const noexcept { return issuers_; }
    const JwtLimits& limits() const noexcept { return limits_; }

private:
    Verifier(std::vector<IssuerConfig> issuers, JwtLimits limits)
        : issuers_(std::move(issuers)), limits_(limits) {}
    const IssuerConfig* find_issuer(std::string_view iss, bool has_iss) const noexcept;

    std::vector<IssuerConfig> issuers_;
    JwtLimits limits_;
};

}  // namespace herald::security
