#pragma once
// Test-only helpers: real keys generated with OpenSSL (EVP_PKEY_Q_keygen) once per test process,
// their public forms (PEM, certificate, JWK), and a JWS signer for every algorithm, so that the
// verifier is exercised with genuine signatures and not with fixtures it could have been written to
// match.

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "security/alg.hpp"
#include "security/jwk.hpp"
#include "base/ossl.hpp"

namespace herald::security::testing {

struct TestKeys {
    ossl::PkeyPtr rsa;        // RSA-2048
    ossl::PkeyPtr rsa_other;  // a second RSA-2048 (the "attacker's" or the rotated key)
    ossl::PkeyPtr ec256;
    ossl::PkeyPtr ec384;
    ossl::PkeyPtr ed25519;
    ossl::PkeyPtr ec256_other;
    std::string hmac_secret;  // 64 random bytes: allows HS256/384/512
};

// Generated on first use, shared by all tests of the process (key generation is the slow part).
const TestKeys& keys();

ossl::PkeyPtr generate(
    const char* type,
    const char* param = nullptr);  // ("RSA", "2048"), ("EC", "P-256"), ("ED25519")
ossl::PkeyPtr generate_rsa(std::size_t bits);

std::string public_pem(EVP_PKEY* pkey);            // -----BEGIN PUBLIC KEY-----
std::string public_pem_pkcs1(EVP_PKEY* rsa);       // -----BEGIN RSA PUBLIC KEY-----
std::string private_pem(EVP_PKEY* pkey);           // -----BEGIN PRIVATE KEY-----
std::string self_signed_cert_pem(EVP_PKEY* pkey);  // -----BEGIN CERTIFICATE-----

// The public JWK of an RSA, EC or Ed25519 key, with "kid" (and "alg") when non-empty.
boost::json::object public_jwk(EVP_PKEY* pkey, std::string_view kid = {},
                               std::string_view alg = {});
boost::json::object oct_jwk(std::string_view secret, std::string_view kid = {});

// What signs: a private key, or an HMAC secret.
struct Signer {
    Alg alg;
    EVP_PKEY* pkey = nullptr;
    std::string secret;
};

// The raw JWS signature of `input` (ES*: r||s; PS*: salt = hash length).
std::string sign(const Signer& signer, std::string_view input);

// A compact JWS from a header and claims; the header's "alg" is set from the signer unless already
// present.
std::string make_jwt(boost::json::object header, const boost::json::object& claims,
                     const Signer& signer);

// header {"alg":..., "typ":"JWT", "kid": kid (when non-empty)}
std::string make_jwt(const Signer& signer, const boost::json::object& claims,
                     std::string_view kid = {});

// Builds a token from raw segments (already base64url or deliberately not).
std::string join(std::string_view header, std::string_view payload, std::string_view signature);
std::string b64(std::string_view bytes);
std::string b64_json(const boost::json::object& o);

}  // namespace herald::security::testing
