// Fuzz target: credentials as they arrive from the network — a compact JWT (security::parse_jwt), the same text
// through the whole Authenticator as an `Authorization: Bearer` value, an `X-API-Key` and a query token, and as
// a JWK / JWKS document (security::Key::from_jwk, security::parse_jwks).
//
// Invariants beyond "no crash, no sanitizer report":
//  - a parsed token's signing input is the text up to its second '.', and its alg is never "none";
//  - the Authenticator never admits a credential it cannot verify: with one HMAC issuer whose secret the fuzzer
//    does not know and no API keys, every answer is a refusal with status 400, 401 or 503;
//  - a refusal never echoes the credential in its detail: the input is also presented with a canary appended
//    (letters only, so a token stays structurally the same), and the canary must not appear in any answer.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.hpp"
#include "fuzz_check.hpp"
#include "security/authenticator.hpp"
#include "security/jwk.hpp"
#include "security/jwt.hpp"

using namespace herald;

namespace {

security::Authenticator& authenticator() {
    static security::Authenticator* a = [] {
        auto key = security::Key::hmac_secret("a fuzzing secret that is long enough to be a key");
        security::IssuerConfig issuer;
        issuer.issuer = "fuzz";
        issuer.audiences = {"herald"};
        issuer.keys.add(std::move(*key));
        auto verifier = security::Verifier::create({std::move(issuer)});
        return new security::Authenticator({}, std::make_shared<const security::Verifier>(std::move(*verifier)),
                                           nullptr, SystemClock::instance());
    }();
    return *a;
}

constexpr std::string_view kCanary = "HeraldFuzzCanaryQzXw";

void check_refusal(const security::Expected<security::PrincipalPtr, security::AuthError>& r) {
    HERALD_FUZZ_CHECK(!r.has_value());
    const auto& e = r.error();
    HERALD_FUZZ_CHECK(e.status == 400 || e.status == 401 || e.status == 503);
    HERALD_FUZZ_CHECK(e.detail.find(kCanary) == std::string::npos);
    HERALD_FUZZ_CHECK(e.www_authenticate.find(kCanary) == std::string::npos);
}

void present(security::Authenticator& auth, std::string_view credential) {
    const std::string bearer = "Bearer " + std::string(credential);
    security::Credentials c;
    c.authorization = bearer;
    check_refusal(auth.authenticate(c));
    security::Credentials k;
    k.api_key = credential;
    check_refusal(auth.authenticate(k));
    if (credential.empty()) return;
    security::Credentials q;
    q.query_token = credential;
    q.allow_query_token = true;
    check_refusal(auth.authenticate(q));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);

    auto jwt = security::parse_jwt(text);
    if (jwt) {
        auto first = text.find('.');
        auto second = text.find('.', first + 1);
        HERALD_FUZZ_CHECK(first != std::string_view::npos && second != std::string_view::npos);
        HERALD_FUZZ_CHECK(jwt->signing_input == text.substr(0, second));
    }

    auto& auth = authenticator();
    present(auth, text);
    present(auth, std::string(text) + std::string(kCanary));

    (void)security::Key::from_jwk(text);
    (void)security::parse_jwks(text);
    return 0;
}
