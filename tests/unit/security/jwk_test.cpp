// Keys from every source (HMAC secret, PEM public key, PKCS#1 PEM, certificate, JWK of each kty,
// JWKS), with their strength floors, their algorithm families, and the refusals: private material,
// wrong use, unknown curves, points off the curve, wrong coordinate sizes, oversized or malformed
// JWKS documents.

#include "security/jwk.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "security/base64url.hpp"
#include "security/jwt.hpp"
#include "test_support.hpp"

namespace herald::security {
namespace {

using testing::keys;
using testing::Signer;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

// The key must verify a token signed by the matching private key with `alg`.
void expect_verifies(const Key& key, Alg alg, EVP_PKEY* private_key,
                     const std::string& secret = {}) {
    const std::string token = testing::make_jwt(Signer{alg, private_key, secret},
                                                boost::json::object{{"exp", 1'700'000'100}});
    auto jwt = parse_jwt(token);
    ASSERT_TRUE(jwt);
    auto ok = verify_signature(*jwt, key);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().detail);
}

void expect_invalid(const Result<Key>& k, std::string_view attribute = {}) {
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error().code, Errc::invalid_argument);
    EXPECT_FALSE(k.error().message.empty());
    if (!attribute.empty()) {
        EXPECT_EQ(k.error().attribute, attribute) << k.error().message;
    }
}

// ---- HMAC secrets
// -------------------------------------------------------------------------------------------

TEST(HmacKey, SecretLengthDecidesTheAllowedHashes) {
    expect_invalid(Key::hmac_secret(std::string(31, 'a')), "secret");
    auto k32 = Key::hmac_secret(std::string(32, 'a'));
    ASSERT_TRUE(k32);
    EXPECT_EQ(k32->type(), KeyType::hmac);
    EXPECT_EQ(k32->algs(), (AlgSet{Alg::hs256}));
    EXPECT_EQ(Key::hmac_secret(std::string(48, 'a'))->algs(), (AlgSet{Alg::hs256, Alg::hs384}));
    EXPECT_EQ(Key::hmac_secret(std::string(64, 'a'))->algs(), AlgSet::hmac());
    EXPECT_EQ(k32->evp(), nullptr);
    EXPECT_EQ(k32->secret(), std::string(32, 'a'));
}

TEST(HmacKey, AlgOptionNarrowsAndMustFit) {
    auto k = Key::hmac_secret(std::string(64, 'a'), {.kid = "h", .alg = Alg::hs384});
    ASSERT_TRUE(k);
    EXPECT_EQ(k->algs(), (AlgSet{Alg::hs384}));
    EXPECT_EQ(k->kid(), "h");
    expect_invalid(Key::hmac_secret(std::string(32, 'a'), {.alg = Alg::hs512}), "alg");
    expect_invalid(Key::hmac_secret(std::string(64, 'a'), {.alg = Alg::rs256}), "alg");
    expect_invalid(Key::hmac_secret(std::string(64, 'a'), {.kid = std::string(300, 'k')}), "kid");
}

// ---- PEM
// -------------------------------------------------------------------------------------------------

TEST(PemKey, PublicKeysOfEveryType) {
    struct Case {
        EVP_PKEY* pkey;
        KeyType type;
        Alg alg;
    };
    for (const Case& c : {Case{keys().rsa.get(), KeyType::rsa, Alg::rs256},
                          Case{keys().ec256.get(), KeyType::ec_p256, Alg::es256},
                          Case{keys().ec384.get(), KeyType::ec_p384, Alg::es384},
                          Case{keys().ed25519.get(), KeyType::ed25519, Alg::eddsa}}) {
        SCOPED_TRACE(std::string(to_string(c.type)));
        auto k = Key::from_pem(testing::public_pem(c.pkey), {.kid = "pem"});
        ASSERT_TRUE(k) << k.error().message;
        EXPECT_EQ(k->type(), c.type);
        EXPECT_EQ(k->kid(), "pem");
        EXPECT_EQ(k->algs(), algs_for(c.type));
        EXPECT_TRUE(k->secret().empty());
        expect_verifies(*k, c.alg, c.pkey);
    }
}

TEST(PemKey, RsaAllowsPkcs1AndPss) {
    auto k = Key::from_pem(testing::public_pem(keys().rsa.get()));
    ASSERT_TRUE(k);
    for (Alg alg : AlgSet::rsa().members()) expect_verifies(*k, alg, keys().rsa.get());
}

TEST(PemKey, Pkcs1RsaPublicKey) {
    const std::string pem = testing::public_pem_pkcs1(keys().rsa.get());
    ASSERT_NE(pem.find("BEGIN RSA PUBLIC KEY"), std::string::npos);
    auto k = Key::from_pem(pem);
    ASSERT_TRUE(k) << k.error().message;
    EXPECT_EQ(k->type(), KeyType::rsa);
    expect_verifies(*k, Alg::rs512, keys().rsa.get());
}

TEST(PemKey, CertificateIsAContainerForItsPublicKey) {
    for (EVP_PKEY* pkey : {keys().rsa.get(), keys().ec256.get(), keys().ed25519.get()}) {
        const std::string pem = "leading text\n" + testing::self_signed_cert_pem(pkey);
        auto k = Key::from_pem(pem);
        ASSERT_TRUE(k) << k.error().message;
        EXPECT_EQ(EVP_PKEY_eq(k->evp(), pkey), 1);
    }
}

TEST(PemKey, PrivateKeysAreRefused) {
    auto k = Key::from_pem(testing::private_pem(keys().ec256.get()));
    expect_invalid(k);
    EXPECT_NE(k.error().message.find("private key"), std::string::npos);
}

TEST(PemKey, GarbageIsRefused) {
    expect_invalid(Key::from_pem(""));
    expect_invalid(Key::from_pem("no pem here"));
    expect_invalid(Key::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
    expect_invalid(Key::from_pem("-----BEGIN PUBLIC KEY-----\nMFkw\n"));  // no END line
    expect_invalid(Key::from_pem(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"));
    std::string pem = testing::public_pem(keys().rsa.get());
    pem[pem.size() / 2] = pem[pem.size() / 2] == 'A' ? 'B' : 'A';  // corrupt the DER
    // Either the DER no longer parses or it yields a different key; both must not silently verify.
    auto k = Key::from_pem(pem);
    if (k) {
        EXPECT_NE(EVP_PKEY_eq(k->evp(), keys().rsa.get()), 1);
    }
}

TEST(PemKey, WeakRsaIsRefused) {
    auto weak = testing::generate_rsa(1024);
    auto k = Key::from_pem(testing::public_pem(weak.get()));
    expect_invalid(k);
    EXPECT_NE(k.error().message.find("2048"), std::string::npos);
    expect_invalid(Key::from_evp(weak.get()));
    expect_invalid(Key::from_jwk(testing::public_jwk(weak.get())));
}

TEST(PemKey, UnsupportedKeyTypesAreRefused) {
    auto x25519 = testing::generate("X25519");
    expect_invalid(Key::from_pem(testing::public_pem(x25519.get())));
    auto p521 = testing::generate("EC", "P-521");
    expect_invalid(Key::from_pem(testing::public_pem(p521.get())));
}

// ---- JWK
// -------------------------------------------------------------------------------------------------

TEST(Jwk, EveryKty) {
    struct Case {
        EVP_PKEY* pkey;
        KeyType type;
        Alg alg;
    };
    for (const Case& c : {Case{keys().rsa.get(), KeyType::rsa, Alg::ps384},
                          Case{keys().ec256.get(), KeyType::ec_p256, Alg::es256},
                          Case{keys().ec384.get(), KeyType::ec_p384, Alg::es384},
                          Case{keys().ed25519.get(), KeyType::ed25519, Alg::eddsa}}) {
        SCOPED_TRACE(std::string(to_string(c.type)));
        auto jwk = testing::public_jwk(c.pkey, "kid-1");
        auto k = Key::from_jwk(jwk);
        ASSERT_TRUE(k) << k.error().message;
        EXPECT_EQ(k->type(), c.type);
        EXPECT_EQ(k->kid(), "kid-1");
        EXPECT_EQ(EVP_PKEY_eq(k->evp(), c.pkey), 1);
        expect_verifies(*k, c.alg, c.pkey);
        // The same from text.
        auto from_text = Key::from_jwk(boost::json::serialize(jwk));
        ASSERT_TRUE(from_text);
        EXPECT_EQ(from_text->type(), c.type);
    }
}

TEST(Jwk, Oct) {
    const std::string secret = keys().hmac_secret;
    auto k = Key::from_jwk(testing::oct_jwk(secret, "h1"));
    ASSERT_TRUE(k) << k.error().message;
    EXPECT_EQ(k->type(), KeyType::hmac);
    EXPECT_EQ(k->secret(), secret);
    expect_verifies(*k, Alg::hs512, nullptr, secret);
    auto refused = Key::from_jwk(testing::oct_jwk(secret), JwkOptions{.allow_symmetric = false});
    expect_invalid(refused, "kty");
    expect_invalid(Key::from_jwk(testing::oct_jwk("short")), "secret");
}

TEST(Jwk, AlgMemberNarrowsAndMustSuitTheKey) {
    auto jwk = testing::public_jwk(keys().rsa.get(), "r", "RS256");
    auto k = Key::from_jwk(jwk);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->algs(), (AlgSet{Alg::rs256}));
    expect_invalid(Key::from_jwk(testing::public_jwk(keys().rsa.get(), "r", "ES256")), "alg");
    expect_invalid(Key::from_jwk(testing::public_jwk(keys().ec256.get(), "e", "ES384")), "alg");
    expect_invalid(Key::from_jwk(testing::public_jwk(keys().ec256.get(), "e", "none")), "alg");
    expect_invalid(Key::from_jwk(testing::public_jwk(keys().rsa.get(), "r", "RSA-OAEP")), "alg");
    auto hs = testing::oct_jwk(keys().hmac_secret);
    hs["alg"] = "RS256";
    expect_invalid(Key::from_jwk(hs), "alg");
}

TEST(Jwk, UseAndKeyOps) {
    auto jwk = testing::public_jwk(keys().ec256.get());
    jwk["use"] = "sig";
    EXPECT_TRUE(Key::from_jwk(jwk));
    jwk["use"] = "enc";
    expect_invalid(Key::from_jwk(jwk), "use");
    jwk.erase("use");
    jwk["key_ops"] = boost::json::array{"verify", "sign"};
    EXPECT_TRUE(Key::from_jwk(jwk));
    jwk["key_ops"] = boost::json::array{"encrypt"};
    expect_invalid(Key::from_jwk(jwk), "key_ops");
    jwk["key_ops"] = "verify";
    expect_invalid(Key::from_jwk(jwk), "key_ops");
}

TEST(Jwk, PrivateMaterialIsRefused) {
    auto rsa = testing::public_jwk(keys().rsa.get());
    rsa["d"] = "AQAB";
    expect_invalid(Key::from_jwk(rsa), "d");
    auto ec = testing::public_jwk(keys().ec256.get());
    ec["d"] = testing::b64(std::string(32, 'x'));
    expect_invalid(Key::from_jwk(ec), "d");
    auto okp = testing::public_jwk(keys().ed25519.get());
    okp["d"] = testing::b64(std::string(32, 'x'));
    expect_invalid(Key::from_jwk(okp), "d");
}

TEST(Jwk, MissingOrMistypedMembers) {
    expect_invalid(Key::from_jwk(boost::json::object{}), "kty");
    expect_invalid(Key::from_jwk(boost::json::object{{"kty", 1}}), "kty");
    expect_invalid(Key::from_jwk(boost::json::object{{"kty", "RSA"}, {"e", "AQAB"}}), "n");
    expect_invalid(Key::from_jwk(boost::json::object{{"kty", "DSA"}}), "kty");
    auto rsa = testing::public_jwk(keys().rsa.get());
    rsa["n"] = "not*base64";
    expect_invalid(Key::from_jwk(rsa), "n");
    rsa["n"] = "";
    expect_invalid(Key::from_jwk(rsa), "n");
    auto kid = testing::public_jwk(keys().rsa.get());
    kid["kid"] = 12;
    expect_invalid(Key::from_jwk(kid), "kid");
    expect_invalid(Key::from_jwk(std::string_view("{not json")));
    expect_invalid(Key::from_jwk(std::string_view("[]")));
}

TEST(Jwk, EcCoordinatesMustBeFullSizeAndOnTheCurve) {
    auto jwk = testing::public_jwk(keys().ec256.get());
    auto x = *base64url_decode(jwk["x"].as_string());
    auto y = *base64url_decode(jwk["y"].as_string());
    auto short_x = jwk;
    short_x["x"] = testing::b64(x.substr(1));
    expect_invalid(Key::from_jwk(short_x), "x");
    auto long_y = jwk;
    long_y["y"] = testing::b64(std::string(1, '\0') + y);
    expect_invalid(Key::from_jwk(long_y), "y");
    auto off_curve = jwk;
    y[31] = static_cast<char>(y[31] ^ 1);
    off_curve["y"] = testing::b64(y);
    expect_invalid(Key::from_jwk(off_curve));
    auto wrong_crv = jwk;
    wrong_crv["crv"] = "P-384";  // 32-byte coordinates for a 48-byte curve
    expect_invalid(Key::from_jwk(wrong_crv), "x");
    auto p521 = jwk;
    p521["crv"] = "P-521";
    expect_invalid(Key::from_jwk(p521), "crv");
    auto secp256k1 = jwk;
    secp256k1["crv"] = "secp256k1";
    expect_invalid(Key::from_jwk(secp256k1), "crv");
}

TEST(Jwk, OkpCurvesOtherThanEd25519AreRefused) {
    auto jwk = testing::public_jwk(keys().ed25519.get());
    for (const char* crv : {"Ed448", "X25519", "X448"}) {
        auto other = jwk;
        other["crv"] = crv;
        expect_invalid(Key::from_jwk(other), "crv");
    }
    auto short_x = jwk;
    short_x["x"] = testing::b64(std::string(31, 'a'));
    expect_invalid(Key::from_jwk(short_x), "x");
}

TEST(Jwk, PaddedMembersFromSloppyProducersAreAccepted) {
    auto jwk = testing::public_jwk(keys().rsa.get());
    jwk["e"] = "AQAB";  // 65537: three bytes, no padding needed; make n padded instead
    std::string n(jwk["n"].as_string());
    while (n.size() % 4 != 0) n += '=';
    jwk["n"] = n;
    EXPECT_TRUE(Key::from_jwk(jwk));
}

// ---- JWKS
// -------------------------------------------------------------------------------------------------

TEST(Jwks, MixedSetKeepsUsableKeysAndNotesTheRest) {
    boost::json::array list;
    list.push_back(testing::public_jwk(keys().rsa.get(), "rsa", "RS256"));
    list.push_back(testing::public_jwk(keys().ec256.get(), "ec"));
    auto enc = testing::public_jwk(keys().rsa_other.get(), "enc");
    enc["use"] = "enc";
    list.push_back(enc);
    list.push_back(boost::json::object{
        {"kty", "EC"}, {"crv", "P-521"}, {"kid", "p521"}, {"x", "AA"}, {"y", "AA"}});
    list.push_back("not an object");
    list.push_back(testing::public_jwk(keys().ed25519.get(), "ed"));
    list.push_back(testing::oct_jwk(keys().hmac_secret, "hs"));
    const std::string doc = boost::json::serialize(boost::json::object{{"keys", list}});

    auto r = parse_jwks(doc);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->keys.size(), 4u);
    EXPECT_EQ(r->keys.keys()[0].kid(), "rsa");
    EXPECT_EQ(r->keys.keys()[1].kid(), "ec");
    EXPECT_EQ(r->keys.keys()[2].kid(), "ed");
    EXPECT_EQ(r->keys.keys()[3].kid(), "hs");
    EXPECT_TRUE(r->keys.contains_kid("ec"));
    EXPECT_FALSE(r->keys.contains_kid("enc"));
    ASSERT_EQ(r->notes.size(), 3u);
    EXPECT_NE(r->notes[0].find("keys[2] (kid \"enc\")"), std::string::npos) << r->notes[0];
    EXPECT_NE(r->notes[1].find("P-521"), std::string::npos) << r->notes[1];
    EXPECT_NE(r->notes[2].find("keys[4]"), std::string::npos) << r->notes[2];

    auto no_oct = parse_jwks(doc, JwkOptions{.allow_symmetric = false});
    ASSERT_TRUE(no_oct);
    EXPECT_EQ(no_oct->keys.size(), 3u);
    EXPECT_EQ(no_oct->notes.size(), 4u);
}

TEST(Jwks, DocumentLevelErrors) {
    EXPECT_FALSE(parse_jwks("not json"));
    EXPECT_FALSE(parse_jwks("[]"));
    EXPECT_FALSE(parse_jwks("{}"));
    EXPECT_FALSE(parse_jwks("{\"keys\":{}}"));
    auto big = parse_jwks(std::string(kMaxJwksBytes + 1, ' '));
    ASSERT_FALSE(big);
    EXPECT_EQ(big.error().code, Errc::payload_too_large);
    auto empty = parse_jwks("{\"keys\":[]}");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->keys.empty());
}

TEST(Jwks, KeyCountIsCapped) {
    boost::json::array list;
    const auto jwk = testing::public_jwk(keys().ec256.get());
    for (std::size_t i = 0; i < kMaxJwksKeys + 5; ++i) {
        auto k = jwk;
        k["kid"] = "k" + std::to_string(i);
        list.push_back(k);
    }
    auto r = parse_jwks(boost::json::serialize(boost::json::object{{"keys", list}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->keys.size(), kMaxJwksKeys);
    ASSERT_EQ(r->notes.size(), 1u);
}

TEST(KeyType, NamesAndFamilies) {
    EXPECT_EQ(to_string(KeyType::ec_p384), "ec_p384");
    EXPECT_EQ(algs_for(KeyType::rsa), AlgSet::rsa());
    EXPECT_EQ(algs_for(KeyType::ed25519), (AlgSet{Alg::eddsa}));
    // The families never overlap: that is what makes algorithm confusion impossible at the key.
    for (KeyType a :
         {KeyType::hmac, KeyType::rsa, KeyType::ec_p256, KeyType::ec_p384, KeyType::ed25519}) {
        for (KeyType b :
             {KeyType::hmac, KeyType::rsa, KeyType::ec_p256, KeyType::ec_p384, KeyType::ed25519}) {
            if (a != b) {
                EXPECT_TRUE((algs_for(a) & algs_for(b)).empty());
            }
        }
    }
}

TEST(Key, CopiesShareTheUnderlyingKey) {
    auto k = Key::from_evp(keys().ec256.get(), {.kid = "a"});
    ASSERT_TRUE(k);
    Key copy = *k;
    EXPECT_EQ(copy.evp(), k->evp());
    KeySet set;
    set.add(copy);
    EXPECT_EQ(set.size(), 1u);
    (void)kNow;
}

}  // namespace
}  // namespace herald::security
