#pragma once
// Why a credential was refused, as a value. Every failure in this module carries a Reason: a small,
// closed set of stable codes meant to be used verbatim as a metric label
// (`herald_security_auth_failures_total{reason=..}`) and in logs, next to a human sentence. The
// sentence never repeats the credential itself.
//
// Expected<T, E> is Result<T> (base/result.hpp) with a caller-chosen error type: the security data
// path needs richer errors than herald::Error (a reason code, an HTTP status, a challenge header),
// while configuration paths (loading keys, adding API keys) keep returning herald::Result with an
// Errc and the offending key.

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/expected.hpp"

namespace herald::security {

enum class Reason : std::uint8_t {
    // The shape of the token or header.
    malformed,  // not a compact JWS, bad base64url, bad JSON, a header parameter of the wrong type
    token_too_large,  // the token or its header is over the configured size limit
    // Algorithm and key.
    alg_none,          // "alg":"none" (any spelling): never accepted
    unsupported_alg,   // an alg Herald does not implement
    alg_not_allowed,   // a known alg the issuer or the selected key does not allow (algorithm
                       // confusion)
    unknown_kid,       // the token names a key id the issuer's key set does not hold
    keys_unavailable,  // the issuer has no keys yet (its JWKS was never fetched successfully)
    bad_signature,     // the signature does not verify (includes wrong length, truncation)
    // Claims.
    expired,           // now >= exp + leeway
    not_yet_valid,     // now + leeway < nbf
    issued_in_future,  // now + leeway < iat
    wrong_issuer,      // no configured issuer matches iss
    wrong_audience,    // aud does not name any configured audience (or is absent when one is
                       // required)
    missing_claim,     // a required claim is absent
    invalid_claim,     // a registered claim has the wrong JSON type
    // Credentials as presented in a request.
    missing_credentials,     // nothing to authenticate with
    unsupported_scheme,      // an Authorization scheme other than Bearer
    credential_not_allowed,  // a query-parameter or cookie token where the route does not allow one
    invalid_request,         // more than one credential, or a malformed Authorization header
    invalid_api_key,         // no API key with this hash
    api_key_expired,         // the API key exists but its expiry has passed
    // Authorization.
    insufficient_scope,  // authenticated, but no scope grants the action on the topic
};

// The stable snake_case label of a reason ("bad_signature"); never changes once released.
std::string_view to_string(Reason reason) noexcept;

// Why a JWT was refused. `issuer` and `kid` are filled in when known, so that an unknown_kid
// failure can trigger a JWKS refetch for the right issuer (JwksCache::unknown_kid).
struct JwtError {
    Reason reason;
    std::string detail{};  // a sentence for logs and error_description; never contains the token
    std::string issuer{};  // the token's iss when it was readable, else empty
    std::string kid{};     // the token's kid when present, else empty
};

inline JwtError jwt_error(Reason reason, std::string detail) {
    return JwtError{reason, std::move(detail), {}, {}};
}

// A value or an error (base/expected.hpp).
using herald::Expected;

}  // namespace herald::security
