#include "security/authenticator.hpp"

#include <algorithm>
#include <cstring>

namespace herald::security {
namespace {

constexpr char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// token68 (RFC 9110 §11.2): 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_token68(std::string_view s) noexcept {
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
                        c == '+' || c == '/';
        if (!ok) break;
    }
    if (i == 0) return false;
    for (; i < s.size(); ++i) {
        if (s[i] != '=') return false;
    }
    return true;
}

// Characters allowed inside the quoted error_description and scope (RFC 6750 §3): printable ASCII
// except '"' and '\'. Anything else becomes '?'.
std::string sanitize(std::string_view s, std::size_t max = 200) {
    std::string out;
    out.reserve(std::min(s.size(), max));
    for (char c : s.substr(0, max)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back((u < 0x20 || u > 0x7E || c == '"' || c == '\\') ? '?' : c);
    }
    return out;
}

bool has_api_key_prefix(std::string_view token) noexcept {
    return token.substr(0, kApiKeyPrefix.size()) == kApiKeyPrefix;
}

AuthError make_auth_error(int status, Reason reason, std::string detail,
                          std::string www_authenticate) {
    return AuthError{status, reason, std::move(detail), std::move(www_authenticate)};
}

}  // namespace

std::size_t Authenticator::DigestHash::operator()(const Sha256Digest& d) const noexcept {
    // The digest is already uniformly distributed (and its preimage cannot be chosen), so its first
    // bytes are a perfect hash.
    std::size_t h = 0;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
}

Authenticator::Authenticator(AuthenticatorOptions options, std::shared_ptr<const Verifier> verifier,
                             std::shared_ptr<const ApiKeyStore> api_keys, const Clock& clock)
    : options_(std::move(options)),
      verifier_(std::move(verifier)),
      api_keys_(std::move(api_keys)),
      clock_(clock) {
    options_.cache_capacity = std::max<std::size_t>(1, options_.cache_capacity);
    auto anon = std::make_shared<Principal>();
    anon->subject = "anonymous";
    anon->kind = PrincipalKind::anonymous;
    anon->scopes = options_.anonymous_scopes;
    anonymous_ = std::move(anon);
    cache_index_.reserve(std::min<std::size_t>(options_.cache_capacity, 4096));
}

std::string Authenticator::challenge(std::string_view error, std::string_view description,
                                     std::string_view scope) const {
    std::string out = "Bearer realm=\"" + sanitize(options_.realm) + "\"";
    if (!error.empty()) out += ", error=\"" + sanitize(error) + "\"";
    if (!description.empty()) out += ", error_description=\"" + sanitize(description) + "\"";
    if (!scope.empty()) out += ", scope=\"" + sanitize(scope, 300) + "\"";
    return out;
}

AuthError Authenticator::fail(int status, Reason reason, std::string detail,
                              std::string_view error_code) {
    ++stats_.failures;
    std::string www;
    if (status != 503) {
        // RFC 6750 §3.1: without any credential, the challenge carries no error code or
        // description.
        www = error_code.empty() ? challenge() : challenge(error_code, detail);
    }
    return make_auth_error(status, reason, std::move(detail), std::move(www));
}

Expected<PrincipalPtr, AuthError> Authenticator::authenticate(const Credentials& c) {
    const bool has_authorization = !c.authorization.empty();
    const bool has_api_key = !c.api_key.empty();
    const bool has_query = !c.query_token.empty() && c.allow_query_token;
    const bool has_cookie = !c.cookie_token.empty() && c.allow_cookie_token;
    const int explicit_methods = int{has_authorization} + int{has_api_key} + int{has_query};
    if (explicit_methods > 1) {
        return fail(400, Reason::invalid_request, "more than one credential was presented",
                    "invalid_request");
    }
    if (has_authorization) {
        const auto value = trim(c.authorization);
        const auto space = value.find(' ');
        const auto scheme = value.substr(0, space);
        if (!iequals(scheme, "Bearer")) {
            return fail(401, Reason::unsupported_scheme,
                        "only the Bearer authentication scheme is supported", {});
        }
        const auto token =
            space == std::string_view::npos ? std::string_view() : trim(value.substr(space + 1));
        if (token.empty())
            return fail(400, Reason::invalid_request, "the bearer token is empty",
                        "invalid_request");
        if (!is_token68(token)) {
            return fail(400, Reason::invalid_request,
                        "the bearer token has characters a token cannot hold", "invalid_request");
        }
        return authenticate_token(token);
    }
    if (has_api_key) return authenticate_api_key(trim(c.api_key));
    if (has_query) return authenticate_token(c.query_token);
    if (has_cookie) return authenticate_token(c.cookie_token);
    if (!c.query_token.empty()) {
        return fail(401, Reason::credential_not_allowed,
                    "an access_token query parameter is not accepted here", {});
    }
    if (!c.cookie_token.empty()) {
        return fail(401, Reason::credential_not_allowed, "a token cookie is not accepted here", {});
    }
    if (options_.allow_anonymous) {
        ++stats_.anonymous;
        return anonymous_;
    }
    return fail(401, Reason::missing_credentials, "authentication is required", {});
}

Expected<PrincipalPtr, AuthError> Authenticator::authenticate_token(std::string_view token) {
    if (has_api_key_prefix(token)) return authenticate_api_key(token);
    return authenticate_jwt(token);
}

Expected<PrincipalPtr, AuthError> Authenticator::authenticate_api_key(std::string_view key) {
    if (!api_keys_)
        return fail(401, Reason::invalid_api_key, "API keys are not accepted", "invalid_token");
    const auto now = clock_.wall_now();
    auto found = api_keys_->lookup(key, now);
    if (!found) {
        return fail(401, found.error(),
                    found.error() == Reason::api_key_expired ? "the API key has expired"
                                                             : "the API key is not valid",
                    "invalid_token");
    }
    const ApiKeyRecord& record = **found;
    auto principal = std::make_shared<Principal>();
    principal->subject = record.name;
    principal->kind = PrincipalKind::api_key;
    principal->scopes = record.scopes;
    principal->expires_at = record.expires;
    ++stats_.api_key_ok;
    return PrincipalPtr(std::move(principal));
}

Expected<PrincipalPtr, AuthError> Authenticator::authenticate_jwt(std::string_view token) {
    if (!verifier_) {
        return fail(401, Reason::unsupported_scheme, "JWT bearer tokens are not accepted here",
                    "invalid_token");
    }
    const auto now = clock_.wall_now();
    const Sha256Digest digest = sha256(token);

    if (const auto hit = cache_index_.find(digest); hit != cache_index_.end()) {
        const auto it = hit->second;
        if (now < it->valid_until) {
            cache_.splice(cache_.begin(), cache_, it);
            ++stats_.cache_hits;
            ++stats_.jwt_ok;
            return it->principal;
        }
        cache_index_.erase(hit);  // past its validity: verify again (which will say why it fails)
        cache_.erase(it);
    }
    ++stats_.cache_misses;

    auto verified = verifier_->verify(token, now);
    if (!verified) {
        const JwtError& e = verified.error();
        if (e.reason == Reason::unknown_kid && options_.on_unknown_kid)
            options_.on_unknown_kid(e.issuer, e.kid);
        if (e.reason == Reason::keys_unavailable) {
            return fail(503, e.reason, "the token issuer's keys are not available yet", {});
        }
        return fail(401, e.reason, e.detail, "invalid_token");
    }

    VerifiedJwt& v = *verified;
    auto principal = std::make_shared<Principal>();
    principal->subject = std::move(v.subject);
    principal->kind = PrincipalKind::jwt;
    principal->scopes = std::move(v.scopes);
    principal->expires_at = v.expires_at;
    principal->issuer = std::move(v.issuer);
    principal->claims = std::move(v.claims);
    PrincipalPtr result(std::move(principal));

    auto valid_until = now + options_.max_cache_ttl;
    if (v.expires_at) {
        // exp + leeway, computed without overflowing a far-future exp.
        const auto exp = *v.expires_at;
        const auto limit = std::chrono::system_clock::time_point::max() - v.leeway;
        valid_until = std::min(valid_until, exp >= limit ? exp : exp + v.leeway);
    }
    if (now < valid_until) {
        if (cache_index_.size() >= options_.cache_capacity) {
            cache_index_.erase(cache_.back().digest);
            cache_.pop_back();
            ++stats_.cache_evictions;
        }
        cache_.push_front(CacheEntry{digest, result, valid_until});
        cache_index_.emplace(digest, cache_.begin());
    }
    ++stats_.jwt_ok;
    return result;
}

Expected<void, AuthError> Authenticator::authorize(const Principal& principal, Action action,
                                                   std::string_view topic) const {
    if (allows(principal, action, topic)) return {};
    const std::string needed = action == Action::admin
                                   ? std::string("admin")
                                   : std::string(to_string(action)) + ":" + std::string(topic);
    std::string detail = "the credential does not grant " + needed;
    std::string www = challenge("insufficient_scope", detail, needed);
    return make_auth_error(403, Reason::insufficient_scope, std::move(detail), std::move(www));
}

void Authenticator::set_verifier(std::shared_ptr<const Verifier> verifier) {
    verifier_ = std::move(verifier);
    clear_cache();
}

void Authenticator::set_api_keys(std::shared_ptr<const ApiKeyStore> api_keys) {
    api_keys_ = std::move(api_keys);
}

void Authenticator::clear_cache() {
    cache_index_.clear();
    cache_.clear();
}

}  // namespace herald::security
