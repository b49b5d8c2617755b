#pragma once
// Who is making a request, as established by the Authenticator: the thing authorization and rate
// limiting are keyed on. A Principal is an immutable snapshot; long-lived streams keep it (shared)
// for their whole life and compare expires_at with the clock to end themselves when the token
// expires (DESIGN.md §6).

#include <boost/json/fwd.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "security/scopes.hpp"

namespace herald::security {

enum class PrincipalKind : std::uint8_t { anonymous, jwt, api_key };

inline std::string_view to_string(PrincipalKind kind) noexcept {
    switch (kind) {
        case PrincipalKind::anonymous:
            return "anonymous";
        case PrincipalKind::jwt:
            return "jwt";
        case PrincipalKind::api_key:
            return "api_key";
    }
    return "unknown";
}

struct Principal {
    // JWT: `sub` (or client_id / azp); API key: the key's name; anonymous: "anonymous".
    std::string subject{};
    PrincipalKind kind = PrincipalKind::anonymous;
    std::vector<Scope> scopes{};
    // When the credential stops being valid (JWT `exp`, API key expiry); nullopt = no expiry.
    std::optional<std::chrono::system_clock::time_point> expires_at{};
    // JWT: the issuer; otherwise empty.
    std::string issuer{};
    // JWT: the verified claims (for forwarding identity upstream); otherwise null.
    std::shared_ptr<const boost::json::object> claims{};

    // A stable identity for per-principal rate limits and logs: "jwt:<issuer>|<subject>",
    // "api_key:<name>". Empty for anonymous principals: key those by client address instead.
    std::string rate_limit_key() const {
        switch (kind) {
            case PrincipalKind::jwt:
                return "jwt:" + issuer + "|" + subject;
            case PrincipalKind::api_key:
                return "api_key:" + subject;
            case PrincipalKind::anonymous:
                return {};
        }
        return {};
    }

    bool expired(std::chrono::system_clock::time_point now) const noexcept {
        return expires_at && now >= *expires_at;
    }
};

using PrincipalPtr = std::shared_ptr<const Principal>;

// True when the principal's scopes grant `action` on `topic`. Does not look at expiry (see
// Principal::expired).
inline bool allows(const Principal& principal, Action action, std::string_view topic) noexcept {
    return allows(principal.scopes, action, topic);
}

}  // namespace herald::security
