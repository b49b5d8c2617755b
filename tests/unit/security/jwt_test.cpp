// JWT parsing, signature verification for every algorithm with real keys, claim checks, issuer and
// key selection, and the classic attacks: alg none, algorithm confusion (HS256 keyed with the RSA
// public key), embedded keys, truncated and wrong-length signatures, oversized headers, unknown
// kids, bad base64.

#include "security/jwt.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>

#include "security/base64url.hpp"
#include "test_support.hpp"

namespace herald::security {
namespace {

using namespace std::chrono_literals;
using testing::keys;
using testing::Signer;

constexpr std::int64_t kNow = 1'700'000'000;  // seconds; the tests' wall clock
const auto kNowTp = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
constexpr std::string_view kIssuer = "https://issuer.test";
constexpr std::string_view kAudience = "herald";

boost::json::object base_claims() {
    return boost::json::object{{"iss", kIssuer},    {"aud", kAudience},
                               {"sub", "user-1"},   {"iat", kNow - 10},
                               {"exp", kNow + 300}, {"scope", "publish:orders.* openid"}};
}

Key must(Result<Key> k) {
    EXPECT_TRUE(k) << (k ? "" : k.error().message);
    return std::move(k).value();
}

// One issuer holding a key of every type, each with a kid named after it.
IssuerConfig full_issuer() {
    IssuerConfig cfg;
    cfg.issuer = std::string(kIssuer);
    cfg.audiences = {std::string(kAudience)};
    cfg.keys.add(must(Key::hmac_secret(keys().hmac_secret, {.kid = "hmac"})));
    cfg.keys.add(must(Key::from_evp(keys().rsa.get(), {.kid = "rsa"})));
    cfg.keys.add(must(Key::from_evp(keys().ec256.get(), {.kid = "ec256"})));
    cfg.keys.add(must(Key::from_evp(keys().ec384.get(), {.kid = "ec384"})));
    cfg.keys.add(must(Key::from_evp(keys().ed25519.get(), {.kid = "ed"})));
    return cfg;
}

Verifier make_verifier(std::vector<IssuerConfig> issuers) {
    auto v = Verifier::create(std::move(issuers));
    EXPECT_TRUE(v);
    return std::move(v).value();
}

Signer signer_for(Alg alg) {
    switch (alg) {
        case Alg::hs256:
        case Alg::hs384:
        case Alg::hs512:
            return Signer{alg, nullptr, keys().hmac_secret};
        case Alg::rs256:
        case Alg::rs384:
        case Alg::rs512:
        case Alg::ps256:
        case Alg::ps384:
        case Alg::ps512:
            return Signer{alg, keys().rsa.get(), {}};
        case Alg::es256:
            return Signer{alg, keys().ec256.get(), {}};
        case Alg::es384:
            return Signer{alg, keys().ec384.get(), {}};
        case Alg::eddsa:
            return Signer{alg, keys().ed25519.get(), {}};
    }
    return {};
}

std::string kid_for(Alg alg) {
    switch (alg) {
        case Alg::hs256:
        case Alg::hs384:
        case Alg::hs512:
            return "hmac";
        case Alg::es256:
            return "ec256";
        case Alg::es384:
            return "ec384";
        case Alg::eddsa:
            return "ed";
        default:
            return "rsa";
    }
}

void expect_reason(const Expected<VerifiedJwt, JwtError>& r, Reason reason) {
    ASSERT_FALSE(r) << "expected " << to_string(reason);
    EXPECT_EQ(r.error().reason, reason) << to_string(r.error().reason) << ": " << r.error().detail;
    EXPECT_FALSE(r.error().detail.empty());
}

class JwtTest : public ::testing::Test {
protected:
    Verifier verifier = make_verifier({full_issuer()});
};

// ---- every algorithm, signed and verified with real keys
// --------------------------------------------------

TEST_F(JwtTest, VerifiesEveryAlgorithmWithKid) {
    for (Alg alg : AlgSet::all().members()) {
        SCOPED_TRACE(std::string(to_string(alg)));
        const std::string token = testing::make_jwt(signer_for(alg), base_claims(), kid_for(alg));
        auto r = verifier.verify(token, kNowTp);
        ASSERT_TRUE(r) << r.error().detail;
        EXPECT_EQ(r->alg, alg);
        EXPECT_EQ(r->kid, kid_for(alg));
        EXPECT_EQ(r->issuer, kIssuer);
        EXPECT_EQ(r->subject, "user-1");
        ASSERT_TRUE(r->expires_at);
        EXPECT_EQ(*r->expires_at, kNowTp + 300s);
        ASSERT_EQ(r->scopes.size(), 1u);  // "openid" is not a Herald scope
        EXPECT_EQ(r->scopes[0], (Scope{Action::publish, "orders.*"}));
        ASSERT_TRUE(r->claims);
        EXPECT_EQ(r->claims->at("sub").as_string(), "user-1");
    }
}

TEST_F(JwtTest, VerifiesEveryAlgorithmWithoutKidByTryingKeysOfTheRightType) {
    for (Alg alg : AlgSet::all().members()) {
        SCOPED_TRACE(std::string(to_string(alg)));
        auto r = verifier.verify(testing::make_jwt(signer_for(alg), base_claims()), kNowTp);
        ASSERT_TRUE(r) << r.error().detail;
        EXPECT_EQ(r->kid, kid_for(alg));
    }
}

TEST_F(JwtTest, TamperedPayloadFailsForEveryAlgorithm) {
    auto evil = base_claims();
    evil["scope"] = "admin";
    for (Alg alg : AlgSet::all().members()) {
        SCOPED_TRACE(std::string(to_string(alg)));
        const std::string token = testing::make_jwt(signer_for(alg), base_claims(), kid_for(alg));
        const auto d1 = token.find('.');
        const auto d2 = token.find('.', d1 + 1);
        const std::string forged =
            token.substr(0, d1 + 1) + testing::b64_json(evil) + token.substr(d2);
        expect_reason(verifier.verify(forged, kNowTp), Reason::bad_signature);
    }
}

TEST_F(JwtTest, SignatureFromAnotherKeyWithTheSameKidFails) {
    const Signer other{Alg::rs256, keys().rsa_other.get(), {}};
    expect_reason(verifier.verify(testing::make_jwt(other, base_claims(), "rsa"), kNowTp),
                  Reason::bad_signature);
    const Signer other_ec{Alg::es256, keys().ec256_other.get(), {}};
    expect_reason(verifier.verify(testing::make_jwt(other_ec, base_claims(), "ec256"), kNowTp),
                  Reason::bad_signature);
    Signer other_hmac{Alg::hs256, nullptr, std::string(64, 'x')};
    expect_reason(verifier.verify(testing::make_jwt(other_hmac, base_claims(), "hmac"), kNowTp),
                  Reason::bad_signature);
}

// ---- alg none and algorithm confusion
// ----------------------------------------------------------------------

TEST_F(JwtTest, AlgNoneIsAlwaysRejected) {
    for (std::string_view none : {"none", "None", "NONE", "nOnE"}) {
        boost::json::object header{{"alg", none}, {"typ", "JWT"}};
        const std::string payload = testing::b64_json(base_claims());
        // With an empty signature, as "none" tokens come, and with a garbage one.
        expect_reason(
            verifier.verify(testing::join(testing::b64_json(header), payload, ""), kNowTp),
            Reason::alg_none);
        expect_reason(
            verifier.verify(testing::join(testing::b64_json(header), payload, "c2ln"), kNowTp),
            Reason::alg_none);
    }
    EXPECT_FALSE(parse_alg_list({"RS256", "none"}));
}

TEST_F(JwtTest, Hs256SignedWithTheRsaPublicKeyPemIsRejected) {
    // The classic confusion: the attacker knows the RSA public key and uses its PEM text as an HMAC
    // secret, hoping the verifier feeds "the key" to HMAC because the token says HS256.
    const std::string pem = testing::public_pem(keys().rsa.get());
    const Signer forged{Alg::hs256, nullptr, pem};
    expect_reason(verifier.verify(testing::make_jwt(forged, base_claims(), "rsa"), kNowTp),
                  Reason::alg_not_allowed);

    // Against an issuer that has only the RSA key (loaded from that very PEM), with and without a
    // kid.
    IssuerConfig rsa_only;
    rsa_only.issuer = std::string(kIssuer);
    rsa_only.audiences = {std::string(kAudience)};
    rsa_only.keys.add(must(Key::from_pem(pem)));
    const Verifier v = make_verifier({rsa_only});
    expect_reason(v.verify(testing::make_jwt(forged, base_claims()), kNowTp),
                  Reason::alg_not_allowed);
    expect_reason(v.verify(testing::make_jwt(forged, base_claims(), "any"), kNowTp),
                  Reason::alg_not_allowed);
    // The DER bytes of the key as the secret fare no better.
    const Signer forged_der{Alg::hs256, nullptr, std::string(pem.begin() + 27, pem.end() - 26)};
    expect_reason(v.verify(testing::make_jwt(forged_der, base_claims()), kNowTp),
                  Reason::alg_not_allowed);
}

TEST_F(JwtTest, AsymmetricAlgsNeverVerifyAgainstAnHmacSecret) {
    IssuerConfig hmac_only;
    hmac_only.issuer = std::string(kIssuer);
    hmac_only.audiences = {std::string(kAudience)};
    hmac_only.keys.add(must(Key::hmac_secret(keys().hmac_secret)));
    const Verifier v = make_verifier({hmac_only});
    for (Alg alg : {Alg::rs256, Alg::ps256, Alg::es256, Alg::es384, Alg::eddsa}) {
        expect_reason(v.verify(testing::make_jwt(signer_for(alg), base_claims()), kNowTp),
                      Reason::alg_not_allowed);
    }
}

TEST_F(JwtTest, KeyOfTheWrongTypeForTheKidIsAlgNotAllowed) {
    // An ES256 token that names the RSA key's kid.
    expect_reason(
        verifier.verify(testing::make_jwt(signer_for(Alg::es256), base_claims(), "rsa"), kNowTp),
        Reason::alg_not_allowed);
    // ES384 token naming the P-256 key: curves are part of the key's family.
    expect_reason(
        verifier.verify(testing::make_jwt(signer_for(Alg::es384), base_claims(), "ec256"), kNowTp),
        Reason::alg_not_allowed);
}

TEST_F(JwtTest, IssuerAllowedAlgsRestrict) {
    auto cfg = full_issuer();
    cfg.allowed_algs = {Alg::rs256};
    const Verifier v = make_verifier({cfg});
    EXPECT_TRUE(v.verify(testing::make_jwt(signer_for(Alg::rs256), base_claims(), "rsa"), kNowTp));
    expect_reason(v.verify(testing::make_jwt(signer_for(Alg::ps256), base_claims(), "rsa"), kNowTp),
                  Reason::alg_not_allowed);
    expect_reason(
        v.verify(testing::make_jwt(signer_for(Alg::hs256), base_claims(), "hmac"), kNowTp),
        Reason::alg_not_allowed);
}

TEST_F(JwtTest, KeyAlgNarrowsTheKey) {
    IssuerConfig cfg;
    cfg.issuer = std::string(kIssuer);
    cfg.audiences = {std::string(kAudience)};
    cfg.keys.add(must(Key::from_evp(keys().rsa.get(), {.kid = "rsa", .alg = Alg::ps256})));
    const Verifier v = make_verifier({cfg});
    EXPECT_TRUE(v.verify(testing::make_jwt(signer_for(Alg::ps256), base_claims(), "rsa"), kNowTp));
    expect_reason(v.verify(testing::make_jwt(signer_for(Alg::rs256), base_claims(), "rsa"), kNowTp),
                  Reason::alg_not_allowed);
}

TEST_F(JwtTest, ShortHmacSecretDoesNotVerifyLongerHashes) {
    IssuerConfig cfg;
    cfg.issuer = std::string(kIssuer);
    cfg.audiences = {std::string(kAudience)};
    const std::string secret(32, 's');
    cfg.keys.add(must(Key::hmac_secret(secret)));
    const Verifier v = make_verifier({cfg});
    EXPECT_TRUE(
        v.verify(testing::make_jwt(Signer{Alg::hs256, nullptr, secret}, base_claims()), kNowTp));
    expect_reason(
        v.verify(testing::make_jwt(Signer{Alg::hs512, nullptr, secret}, base_claims()), kNowTp),
        Reason::alg_not_allowed);
}

TEST_F(JwtTest, EmbeddedJwkHeaderIsNeverTrusted) {
    // The attacker signs with their own key and ships its public half in the header (CVE-2018-0114
    // style).
    const auto& attacker = keys().rsa_other;
    boost::json::object header{{"alg", "RS256"}, {"jwk", testing::public_jwk(attacker.get())}};
    const Signer s{Alg::rs256, attacker.get(), {}};
    expect_reason(verifier.verify(testing::make_jwt(header, base_claims(), s), kNowTp),
                  Reason::bad_signature);
    header["jku"] = "https://attacker.test/jwks";
    header["kid"] = "attacker";
    expect_reason(verifier.verify(testing::make_jwt(header, base_claims(), s), kNowTp),
                  Reason::unknown_kid);
}

TEST_F(JwtTest, UnsupportedAlgs) {
    for (std::string_view alg : {"HS1", "ES512", "RS1", "Ed25519", "hs256", "", "ES256K"}) {
        boost::json::object header{{"alg", alg}};
        const std::string token =
            testing::join(testing::b64_json(header), testing::b64_json(base_claims()), "c2ln");
        expect_reason(verifier.verify(token, kNowTp), Reason::unsupported_alg);
    }
}

// ---- signatures of the wrong shape
// -------------------------------------------------------------------------

std::string with_signature(const std::string& token, std::string_view raw_signature) {
    return token.substr(0, token.rfind('.') + 1) + testing::b64(raw_signature);
}

std::string raw_signature(const std::string& token) {
    return *base64url_decode(std::string_view(token).substr(token.rfind('.') + 1));
}

TEST_F(JwtTest, TruncatedSignaturesFail) {
    for (Alg alg : AlgSet::all().members()) {
        SCOPED_TRACE(std::string(to_string(alg)));
        const std::string token = testing::make_jwt(signer_for(alg), base_claims(), kid_for(alg));
        const std::string sig = raw_signature(token);
        expect_reason(verifier.verify(with_signature(token, sig.substr(0, sig.size() - 1)), kNowTp),
                      Reason::bad_signature);
        expect_reason(verifier.verify(with_signature(token, sig.substr(0, sig.size() / 2)), kNowTp),
                      Reason::bad_signature);
        expect_reason(verifier.verify(with_signature(token, ""), kNowTp), Reason::bad_signature);
        // Truncating the text (not the bytes) usually leaves invalid base64url.
        const std::string cut = token.substr(0, token.size() - 3);
        auto r = verifier.verify(cut, kNowTp);
        ASSERT_FALSE(r);
        EXPECT_TRUE(r.error().reason == Reason::bad_signature ||
                    r.error().reason == Reason::malformed);
    }
}

TEST_F(JwtTest, EcdsaSignatureMustBeRawRAndSOfTheExactLength) {
    const std::string token = testing::make_jwt(signer_for(Alg::es256), base_claims(), "ec256");
    const std::string sig = raw_signature(token);
    ASSERT_EQ(sig.size(), 64u);
    EXPECT_TRUE(verifier.verify(token, kNowTp));
    // One byte too long or too short, and the DER form some libraries emit by mistake.
    expect_reason(verifier.verify(with_signature(token, sig + '\0'), kNowTp),
                  Reason::bad_signature);
    expect_reason(verifier.verify(with_signature(token, sig.substr(1)), kNowTp),
                  Reason::bad_signature);
    const std::string der = std::string("\x30\x44\x02\x20", 4) + sig.substr(0, 32) +
                            std::string("\x02\x20", 2) + sig.substr(32);
    expect_reason(verifier.verify(with_signature(token, der), kNowTp), Reason::bad_signature);
    // r = s = 0 (the "psychic signature", CVE-2022-21449) and r = s = n-ish garbage.
    expect_reason(verifier.verify(with_signature(token, std::string(64, '\0')), kNowTp),
                  Reason::bad_signature);
    expect_reason(verifier.verify(with_signature(token, std::string(64, '\xff')), kNowTp),
                  Reason::bad_signature);
    // ES384 wants 96 bytes.
    const std::string t384 = testing::make_jwt(signer_for(Alg::es384), base_claims(), "ec384");
    EXPECT_EQ(raw_signature(t384).size(), 96u);
    expect_reason(verifier.verify(with_signature(t384, raw_signature(t384).substr(0, 64)), kNowTp),
                  Reason::bad_signature);
}

// ---- structure and size
// -------------------------------------------------------------------------------------

TEST_F(JwtTest, MalformedStructure) {
    const std::string good = testing::make_jwt(signer_for(Alg::hs256), base_claims(), "hmac");
    const std::string h = good.substr(0, good.find('.'));
    const std::string p = testing::b64_json(base_claims());
    for (const std::string& bad :
         {std::string(""), std::string("abc"), h + "." + p, good + ".x", good + "..",
          h + "." + p + ".sig.extra.more", std::string("..")}) {
        expect_reason(verifier.verify(bad, kNowTp), Reason::malformed);
    }
}

TEST_F(JwtTest, BadBase64AnywhereIsMalformed) {
    const std::string good = testing::make_jwt(signer_for(Alg::hs256), base_claims(), "hmac");
    const auto d1 = good.find('.');
    const auto d2 = good.find('.', d1 + 1);
    const std::string h = good.substr(0, d1), p = good.substr(d1 + 1, d2 - d1 - 1),
                      s = good.substr(d2 + 1);
    expect_reason(verifier.verify(testing::join(h + "!", p, s), kNowTp), Reason::malformed);
    expect_reason(verifier.verify(testing::join(h, p + "=", s), kNowTp), Reason::malformed);
    expect_reason(verifier.verify(testing::join(h, p, s + "+"), kNowTp), Reason::malformed);
    expect_reason(verifier.verify(testing::join(h, p, s + "=="), kNowTp), Reason::malformed);
    expect_reason(verifier.verify(testing::join(h, "A", s), kNowTp),
                  Reason::malformed);  // length 1 mod 4
}

TEST_F(JwtTest, HeaderAndPayloadMustBeJsonObjects) {
    const std::string p = testing::b64_json(base_claims());
    expect_reason(verifier.verify(testing::join(testing::b64("not json"), p, "c2ln"), kNowTp),
                  Reason::malformed);
    expect_reason(verifier.verify(testing::join(testing::b64("[1,2]"), p, "c2ln"), kNowTp),
                  Reason::malformed);
    expect_reason(
        verifier.verify(testing::join(testing::b64("{\"typ\":\"JWT\"}"), p, "c2ln"), kNowTp),
        Reason::malformed);  // no alg
    expect_reason(verifier.verify(testing::join(testing::b64("{\"alg\":256}"), p, "c2ln"), kNowTp),
                  Reason::malformed);
    const std::string h = testing::b64("{\"alg\":\"HS256\"}");
    expect_reason(verifier.verify(testing::join(h, testing::b64("\"a string\""), "c2ln"), kNowTp),
                  Reason::malformed);
    expect_reason(verifier.verify(testing::join(h, testing::b64("{\"exp\":"), "c2ln"), kNowTp),
                  Reason::malformed);
    expect_reason(verifier.verify(testing::join(h, "", "c2ln"), kNowTp), Reason::malformed);
}

TEST_F(JwtTest, CritAndNonStringKidAreRefused) {
    const Signer s = signer_for(Alg::hs256);
    expect_reason(
        verifier.verify(testing::make_jwt({{"crit", boost::json::array{"b64"}}, {"b64", false}},
                                          base_claims(), s),
                        kNowTp),
        Reason::malformed);
    expect_reason(verifier.verify(testing::make_jwt({{"kid", 7}}, base_claims(), s), kNowTp),
                  Reason::malformed);
    expect_reason(
        verifier.verify(testing::make_jwt({{"kid", std::string(300, 'k')}}, base_claims(), s),
                        kNowTp),
        Reason::malformed);
    expect_reason(verifier.verify(testing::make_jwt({{"cty", "JWT"}}, base_claims(), s), kNowTp),
                  Reason::malformed);
}

TEST_F(JwtTest, HugeHeaderIsTokenTooLarge) {
    boost::json::object header{
        {"alg", "HS256"}, {"kid", "hmac"}, {"x-pad", std::string(5000, 'a')}};
    auto r =
        verifier.verify(testing::make_jwt(header, base_claims(), signer_for(Alg::hs256)), kNowTp);
    expect_reason(r, Reason::token_too_large);
    EXPECT_NE(r.error().detail.find("token too large"), std::string::npos);
}

TEST_F(JwtTest, HugeTokenIsTokenTooLargeBeforeAnyDecoding) {
    auto claims = base_claims();
    claims["pad"] = std::string(20000, 'a');
    expect_reason(
        verifier.verify(testing::make_jwt(signer_for(Alg::hs256), claims, "hmac"), kNowTp),
        Reason::token_too_large);
    // Not even valid base64: the size check comes first.
    expect_reason(verifier.verify(std::string(17 * 1024, '!'), kNowTp), Reason::token_too_large);
}

TEST_F(JwtTest, LimitsAreConfigurable) {
    auto v = Verifier::create({full_issuer()},
                              JwtLimits{.max_token_bytes = 200, .max_header_bytes = 20});
    ASSERT_TRUE(v);
    expect_reason(
        v->verify(testing::make_jwt(signer_for(Alg::hs256), base_claims(), "hmac"), kNowTp),
        Reason::token_too_large);
}

// ---- claims
// -------------------------------------------------------------------------------------------------

Expected<VerifiedJwt, JwtError> verify_claims(const Verifier& v, const boost::json::object& claims,
                                              std::chrono::system_clock::time_point now = kNowTp) {
    return v.verify(testing::make_jwt(signer_for(Alg::hs256), claims, "hmac"), now);
}

TEST_F(JwtTest, ExpiredWithLeeway) {
    auto c = base_claims();
    c["exp"] = kNow - 30;  // within the default 60 s leeway
    EXPECT_TRUE(verify_claims(verifier, c));
    c["exp"] = kNow - 60;  // exactly at the edge: now >= exp + leeway
    expect_reason(verify_claims(verifier, c), Reason::expired);
    c["exp"] = kNow - 3600;
    expect_reason(verify_claims(verifier, c), Reason::expired);
    c["exp"] = static_cast<double>(kNow) - 59.5;  // fractional NumericDate
    EXPECT_TRUE(verify_claims(verifier, c));
}

TEST_F(JwtTest, NotYetValid) {
    auto c = base_claims();
    c["nbf"] = kNow + 30;
    EXPECT_TRUE(verify_claims(verifier, c));
    c["nbf"] = kNow + 61;
    expect_reason(verify_claims(verifier, c), Reason::not_yet_valid);
}

TEST_F(JwtTest, IssuedInTheFuture) {
    auto c = base_claims();
    c["iat"] = kNow + 61;
    expect_reason(verify_claims(verifier, c), Reason::issued_in_future);
}

TEST_F(JwtTest, ZeroLeewayIsExact) {
    auto cfg = full_issuer();
    cfg.leeway = 0s;
    const Verifier v = make_verifier({cfg});
    auto c = base_claims();
    c["exp"] = kNow + 1;
    EXPECT_TRUE(verify_claims(v, c));
    c["exp"] = kNow;
    expect_reason(verify_claims(v, c), Reason::expired);
    c["exp"] = kNow + 100;
    c["nbf"] = kNow + 1;
    expect_reason(verify_claims(v, c), Reason::not_yet_valid);
}

TEST_F(JwtTest, ExpIsRequiredByDefault) {
    auto c = base_claims();
    c.erase("exp");
    expect_reason(verify_claims(verifier, c), Reason::missing_claim);
    auto cfg = full_issuer();
    cfg.require_exp = false;
    auto r = verify_claims(make_verifier({cfg}), c);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->expires_at);
}

TEST_F(JwtTest, RegisteredClaimsOfTheWrongTypeAreInvalid) {
    for (const char* name : {"exp", "nbf", "iat"}) {
        auto c = base_claims();
        c[name] = "1700000000";
        expect_reason(verify_claims(verifier, c), Reason::invalid_claim);
    }
    auto c = base_claims();
    c["sub"] = 42;
    expect_reason(verify_claims(verifier, c), Reason::invalid_claim);
    c = base_claims();
    c["iss"] = boost::json::array{kIssuer};
    expect_reason(verify_claims(verifier, c), Reason::invalid_claim);
    c = base_claims();
    c["aud"] = 5;
    expect_reason(verify_claims(verifier, c), Reason::invalid_claim);
    c["aud"] = boost::json::array{"herald", 5};
    expect_reason(verify_claims(verifier, c), Reason::invalid_claim);
}

TEST_F(JwtTest, AudienceStringOrArrayAnyMatch) {
    auto c = base_claims();
    c["aud"] = boost::json::array{"other", "herald"};
    EXPECT_TRUE(verify_claims(verifier, c));
    c["aud"] = "other";
    expect_reason(verify_claims(verifier, c), Reason::wrong_audience);
    c["aud"] = boost::json::array{};
    expect_reason(verify_claims(verifier, c), Reason::wrong_audience);
    c["aud"] = "HERALD";  // exact, case-sensitive
    expect_reason(verify_claims(verifier, c), Reason::wrong_audience);
    c.erase("aud");
    expect_reason(verify_claims(verifier, c), Reason::wrong_audience);
}

TEST_F(JwtTest, AudiencePresentButNoneConfigured) {
    auto cfg = full_issuer();
    cfg.audiences.clear();
    const Verifier v = make_verifier({cfg});
    expect_reason(verify_claims(v, base_claims()), Reason::wrong_audience);
    auto c = base_claims();
    c.erase("aud");
    EXPECT_TRUE(verify_claims(v, c));
}

TEST_F(JwtTest, RequiredClaims) {
    auto cfg = full_issuer();
    cfg.required_claims = {"sub", "tenant"};
    const Verifier v = make_verifier({cfg});
    expect_reason(verify_claims(v, base_claims()), Reason::missing_claim);
    auto c = base_claims();
    c["tenant"] = "acme";
    EXPECT_TRUE(verify_claims(v, c));
}

TEST_F(JwtTest, WrongOrMissingIssuer) {
    auto c = base_claims();
    c["iss"] = "https://evil.test";
    auto r = verify_claims(verifier, c);
    expect_reason(r, Reason::wrong_issuer);
    EXPECT_EQ(r.error().issuer, "https://evil.test");
    c["iss"] = "https://issuer.test/";  // exact match only
    expect_reason(verify_claims(verifier, c), Reason::wrong_issuer);
    c.erase("iss");
    expect_reason(verify_claims(verifier, c), Reason::wrong_issuer);
}

TEST_F(JwtTest, ScopeClaimIsConfigurableAndValidated) {
    auto cfg = full_issuer();
    cfg.scope_claim = "scp";
    const Verifier v = make_verifier({cfg});
    auto c = base_claims();
    c["scp"] = boost::json::array{"subscribe:*", "admin", "email"};
    auto r = verify_claims(v, c);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->scopes.size(), 2u);
    EXPECT_EQ(r->scopes[0], (Scope{Action::subscribe, "*"}));
    EXPECT_EQ(r->scopes[1], (Scope{Action::admin, ""}));
    c["scp"] = boost::json::array{"admin", 3};
    expect_reason(verify_claims(v, c), Reason::invalid_claim);
    c["scp"] = true;
    expect_reason(verify_claims(v, c), Reason::invalid_claim);
    c.erase("scp");
    r = verify_claims(v, c);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->scopes.empty());
}

TEST_F(JwtTest, SubjectFallsBackToClientId) {
    auto c = base_claims();
    c.erase("sub");
    c["client_id"] = "svc-42";
    auto r = verify_claims(verifier, c);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subject, "svc-42");
}

TEST_F(JwtTest, FarFutureExpDoesNotOverflow) {
    auto c = base_claims();
    c["exp"] = 1e15;
    auto r = verify_claims(verifier, c);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r->expires_at, std::chrono::system_clock::time_point::max());
}

TEST(CheckClaims, PureFunctionOnClaims) {
    IssuerConfig cfg;
    cfg.audiences = {"a"};
    boost::json::object c{{"aud", "a"}, {"exp", kNow + 10}};
    EXPECT_TRUE(check_claims(c, cfg, kNowTp));
    EXPECT_FALSE(check_claims(c, cfg, kNowTp + 71s));
}

// ---- issuers and keys
// ------------------------------------------------------------------------------------

TEST_F(JwtTest, UnknownKidCarriesIssuerAndKid) {
    auto r = verifier.verify(
        testing::make_jwt(signer_for(Alg::rs256), base_claims(), "rotated-2024"), kNowTp);
    expect_reason(r, Reason::unknown_kid);
    EXPECT_EQ(r.error().issuer, kIssuer);
    EXPECT_EQ(r.error().kid, "rotated-2024");
}

TEST_F(JwtTest, KeysWithoutKidStandForAnyKid) {
    IssuerConfig cfg;
    cfg.issuer = std::string(kIssuer);
    cfg.audiences = {std::string(kAudience)};
    cfg.keys.add(must(Key::from_evp(keys().rsa.get())));
    const Verifier v = make_verifier({cfg});
    EXPECT_TRUE(
        v.verify(testing::make_jwt(signer_for(Alg::rs256), base_claims(), "whatever"), kNowTp));
}

TEST_F(JwtTest, NoKidTriesEveryKeyOfTheRightType) {
    IssuerConfig cfg;
    cfg.issuer = std::string(kIssuer);
    cfg.audiences = {std::string(kAudience)};
    cfg.keys.add(must(Key::from_evp(keys().rsa_other.get(), {.kid = "old"})));
    cfg.keys.add(must(Key::from_evp(keys().ec256.get(), {.kid = "ec"})));
    cfg.keys.add(must(Key::from_evp(keys().rsa.get(), {.kid = "new"})));
    const Verifier v = make_verifier({cfg});
    auto r = v.verify(testing::make_jwt(signer_for(Alg::rs256), base_claims()), kNowTp);
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->kid, "new");
}

TEST_F(JwtTest, SeveralIssuersArePickedByIss) {
    IssuerConfig a;
    a.issuer = "https://a.test";
    a.audiences = {"herald"};
    a.keys.add(must(Key::from_evp(keys().rsa.get(), {.kid = "k"})));
    IssuerConfig b;
    b.issuer = "https://b.test";
    b.audiences = {"herald-b"};
    b.keys.add(must(Key::from_evp(keys().rsa_other.get(), {.kid = "k"})));
    b.scope_claim = "perms";
    const Verifier v = make_verifier({a, b});

    auto ca = base_claims();
    ca["iss"] = "https://a.test";
    auto cb = base_claims();
    cb["iss"] = "https://b.test";
    cb["aud"] = "herald-b";
    cb["perms"] = "admin";
    const Signer sa{Alg::rs256, keys().rsa.get(), {}};
    const Signer sb{Alg::rs256, keys().rsa_other.get(), {}};
    auto ra = v.verify(testing::make_jwt(sa, ca, "k"), kNowTp);
    ASSERT_TRUE(ra);
    EXPECT_EQ(ra->issuer, "https://a.test");
    auto rb = v.verify(testing::make_jwt(sb, cb, "k"), kNowTp);
    ASSERT_TRUE(rb);
    EXPECT_EQ(rb->issuer, "https://b.test");
    ASSERT_EQ(rb->scopes.size(), 1u);
    EXPECT_EQ(rb->scopes[0].action, Action::admin);
    // Issuer B's key cannot vouch for a token claiming issuer A, and each issuer's audience
    // applies.
    expect_reason(v.verify(testing::make_jwt(sb, ca, "k"), kNowTp), Reason::bad_signature);
    auto mixed = cb;
    mixed["aud"] = "herald";
    expect_reason(v.verify(testing::make_jwt(sb, mixed, "k"), kNowTp), Reason::wrong_audience);
}

TEST_F(JwtTest, EmptyIssuerMatchesTokensWithoutIss) {
    IssuerConfig cfg;
    cfg.keys.add(must(Key::hmac_secret(keys().hmac_secret)));
    const Verifier v = make_verifier({cfg});
    auto c = base_claims();
    c.erase("iss");
    c.erase("aud");
    EXPECT_TRUE(verify_claims(v, c));
    c["iss"] = "someone";
    expect_reason(verify_claims(v, c), Reason::wrong_issuer);
}

TEST_F(JwtTest, IssuerWithoutKeysIsKeysUnavailableUntilSetKeys) {
    IssuerConfig cfg;
    cfg.issuer = std::string(kIssuer);
    cfg.audiences = {std::string(kAudience)};
    auto v = make_verifier({cfg});
    const std::string token = testing::make_jwt(signer_for(Alg::es256), base_claims(), "ec");
    expect_reason(v.verify(token, kNowTp), Reason::keys_unavailable);
    KeySet ks;
    ks.add(must(Key::from_evp(keys().ec256.get(), {.kid = "ec"})));
    ASSERT_TRUE(v.set_keys(kIssuer, ks));
    EXPECT_TRUE(v.verify(token, kNowTp));
    auto missing = v.set_keys("https://nobody.test", ks);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST(VerifierCreate, RefusesAmbiguousConfiguration) {
    IssuerConfig a;
    a.issuer = "x";
    EXPECT_FALSE(Verifier::create({a, a}));
    IssuerConfig e1, e2;
    EXPECT_FALSE(Verifier::create({e1, e2}));
    IssuerConfig none_allowed;
    none_allowed.allowed_algs = AlgSet{};
    EXPECT_FALSE(Verifier::create({none_allowed}));
    EXPECT_TRUE(Verifier::create({}));
}

TEST(Alg, NamesRoundTrip) {
    for (Alg alg : AlgSet::all().members()) EXPECT_EQ(alg_from_string(to_string(alg)), alg);
    EXPECT_EQ(AlgSet::all().members().size(), static_cast<std::size_t>(kAlgCount));
    EXPECT_FALSE(alg_from_string("none"));
    EXPECT_TRUE(is_alg_none("NoNe"));
    EXPECT_FALSE(is_alg_none("non"));
    auto set = parse_alg_list({"RS256", "EdDSA"});
    ASSERT_TRUE(set);
    EXPECT_EQ(set->to_string(), "RS256,EdDSA");
    auto bad = parse_alg_list({"RS256", "RS1"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().attribute, "RS1");
}

TEST(Reason, LabelsAreStableSnakeCase) {
    EXPECT_EQ(to_string(Reason::bad_signature), "bad_signature");
    EXPECT_EQ(to_string(Reason::alg_not_allowed), "alg_not_allowed");
    EXPECT_EQ(to_string(Reason::unknown_kid), "unknown_kid");
    EXPECT_EQ(to_string(Reason::insufficient_scope), "insufficient_scope");
    for (int i = 0; i <= static_cast<int>(Reason::insufficient_scope); ++i) {
        const auto label = to_string(static_cast<Reason>(i));
        EXPECT_NE(label, "unknown");
        for (char c : label) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << label;
    }
}

}  // namespace
}  // namespace herald::security
