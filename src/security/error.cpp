#include "security/error.hpp"

namespace herald::security {

std::string_view to_string(Reason reason) noexcept {
    switch (reason) {
        case Reason::malformed:
            return "malformed";
        case Reason::token_too_large:
            return "token_too_large";
        case Reason::alg_none:
            return "alg_none";
        case Reason::unsupported_alg:
            return "unsupported_alg";
        case Reason::alg_not_allowed:
            return "alg_not_allowed";
        case Reason::unknown_kid:
            return "unknown_kid";
        case Reason::keys_unavailable:
            return "keys_unavailable";
        case Reason::bad_signature:
            return "bad_signature";
        case Reason::expired:
            return "expired";
        case Reason::not_yet_valid:
            return "not_yet_valid";
        case Reason::issued_in_future:
            return "issued_in_future";
        case Reason::wrong_issuer:
            return "wrong_issuer";
        case Reason::wrong_audience:
            return "wrong_audience";
        case Reason::missing_claim:
            return "missing_claim";
        case Reason::invalid_claim:
            return "invalid_claim";
        case Reason::missing_credentials:
            return "missing_credentials";
        case Reason::unsupported_scheme:
            return "unsupported_scheme";
        case Reason::credential_not_allowed:
            return "credential_not_allowed";
        case Reason::invalid_request:
            return "invalid_request";
        case Reason::invalid_api_key:
            return "invalid_api_key";
        case Reason::api_key_expired:
            return "api_key_expired";
        case Reason::insufficient_scope:
            return "insufficient_scope";
    }
    return "unknown";
}

}  // namespace herald::security
