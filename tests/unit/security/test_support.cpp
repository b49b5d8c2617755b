#include "test_support.hpp"

#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "security/base64url.hpp"
#include "security/crypto.hpp"

namespace herald::security::testing {
namespace {

[[noreturn]] void die(const std::string& what) {
    throw std::runtime_error(what + ": " + ossl::last_error());
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string bn_bytes(const BIGNUM* bn, int pad = 0) {
    const int n = pad > 0 ? pad : BN_num_bytes(bn);
    std::string out(static_cast<std::size_t>(n), '\0');
    if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n) != n) die("BN_bn2binpad");
    return out;
}

ossl::BnPtr bn_param(EVP_PKEY* pkey, const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) die(std::string("get ") + name);
    return ossl::BnPtr(bn);
}

const EVP_MD* md_for(Alg alg) {
    switch (alg) {
        case Alg::hs256:
        case Alg::rs256:
        case Alg::ps256:
        case Alg::es256:
            return EVP_sha256();
        case Alg::hs384:
        case Alg::rs384:
        case Alg::ps384:
        case Alg::es384:
            return EVP_sha384();
        case Alg::hs512:
        case Alg::rs512:
        case Alg::ps512:
            return EVP_sha512();
        case Alg::eddsa:
            return nullptr;
    }
    return nullptr;
}

std::string digest_sign(EVP_PKEY* pkey, const EVP_MD* md, bool pss, std::string_view input) {
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    if (EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) die("EVP_DigestSignInit");
    if (pss) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
            die("PSS setup");
        }
    }
    std::size_t len = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(input.data());
    if (EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1) die("EVP_DigestSign size");
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                       input.size()) != 1) {
        die("EVP_DigestSign");
    }
    sig.resize(len);
    return sig;
}

}  // namespace

ossl::PkeyPtr generate(const char* type, const char* param) {
    EVP_PKEY* k = nullptr;
    if (std::string_view(type) == "RSA") {
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                              static_cast<size_t>(std::stoul(param ? param : "2048")));
    } else if (std::string_view(type) == "EC") {
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", param);
    } else {
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
    }
    if (!k) die(std::string("keygen ") + type);
    return ossl::PkeyPtr(k);
}

ossl::PkeyPtr generate_rsa(std::size_t bits) {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits);
    if (!k) die("RSA keygen");
    return ossl::PkeyPtr(k);
}

const TestKeys& keys() {
    static const TestKeys k = [] {
        TestKeys t;
        t.rsa = generate_rsa(2048);
        t.rsa_other = generate_rsa(2048);
        t.ec256 = generate("EC", "P-256");
        t.ec384 = generate("EC", "P-384");
        t.ed25519 = generate("ED25519");
        t.ec256_other = generate("EC", "P-256");
        t.hmac_secret = random_bytes(64);
        return t;
    }();
    return k;
}

std::string public_pem(EVP_PKEY* pkey) {
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) die("PEM_write_bio_PUBKEY");
    return bio_text(bio.get());
}

std::string public_pem_pkcs1(EVP_PKEY* rsa) {
    std::unique_ptr<OSSL_ENCODER_CTX, ossl::Deleter<OSSL_ENCODER_CTX_free>> ectx(
        OSSL_ENCODER_CTX_new_for_pkey(rsa, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", nullptr));
    unsigned char* data = nullptr;
    std::size_t len = 0;
    if (!ectx || OSSL_ENCODER_to_data(ectx.get(), &data, &len) != 1) die("OSSL_ENCODER_to_data");
    std::string out(reinterpret_cast<char*>(data), len);
    OPENSSL_free(data);
    return out;
}

std::string private_pem(EVP_PKEY* pkey) {
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        die("PEM private");
    return bio_text(bio.get());
}

std::string self_signed_cert_pem(EVP_PKEY* pkey) {
    ossl::X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1) die("X509_new");
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), pkey);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("herald-test"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    const EVP_MD* md = EVP_PKEY_is_a(pkey, "ED25519") ? nullptr : EVP_sha256();
    if (X509_sign(cert.get(), pkey, md) <= 0) die("X509_sign");
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_X509(bio.get(), cert.get()) != 1) die("PEM_write_bio_X509");
    return bio_text(bio.get());
}

boost::json::object public_jwk(EVP_PKEY* pkey, std::string_view kid, std::string_view alg) {
    boost::json::object jwk;
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        jwk["kty"] = "RSA";
        jwk["n"] = base64url_encode(bn_bytes(bn_param(pkey, OSSL_PKEY_PARAM_RSA_N).get()));
        jwk["e"] = base64url_encode(bn_bytes(bn_param(pkey, OSSL_PKEY_PARAM_RSA_E).get()));
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        const int bits = EVP_PKEY_get_bits(pkey);
        const int size = (bits + 7) / 8;
        jwk["kty"] = "EC";
        jwk["crv"] = bits == 256 ? "P-256" : "P-384";
        jwk["x"] = base64url_encode(bn_bytes(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X).get(), size));
        jwk["y"] = base64url_encode(bn_bytes(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y).get(), size));
    } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        unsigned char raw[32];
        std::size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof raw, &len) !=
            1) {
            die("Ed25519 public key");
        }
        jwk["kty"] = "OKP";
        jwk["crv"] = "Ed25519";
        jwk["x"] = base64url_encode(std::string_view(reinterpret_cast<char*>(raw), len));
    } else {
        throw std::runtime_error("public_jwk: unsupported key");
    }
    if (!kid.empty()) jwk["kid"] = kid;
    if (!alg.empty()) jwk["alg"] = alg;
    return jwk;
}

boost::json::object oct_jwk(std::string_view secret, std::string_view kid) {
    boost::json::object jwk;
    jwk["kty"] = "oct";
    jwk["k"] = base64url_encode(secret);
    if (!kid.empty()) jwk["kid"] = kid;
    return jwk;
}

std::string sign(const Signer& s, std::string_view input) {
    const EVP_MD* md = md_for(s.alg);
    switch (s.alg) {
        case Alg::hs256:
        case Alg::hs384:
        case Alg::hs512: {
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned int len = 0;
            if (!HMAC(md, s.secret.data(), static_cast<int>(s.secret.size()),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      &len)) {
                die("HMAC");
            }
            return std::string(reinterpret_cast<char*>(mac), len);
        }
        case Alg::rs256:
        case Alg::rs384:
        case Alg::rs512:
            return digest_sign(s.pkey, md, false, input);
        case Alg::ps256:
        case Alg::ps384:
        case Alg::ps512:
            return digest_sign(s.pkey, md, true, input);
        case Alg::es256:
        case Alg::es384: {
            const std::string der = digest_sign(s.pkey, md, false, input);
            const auto* p = reinterpret_cast<const unsigned char*>(der.data());
            ossl::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
            if (!sig) die("d2i_ECDSA_SIG");
            const BIGNUM* r = nullptr;
            const BIGNUM* sv = nullptr;
            ECDSA_SIG_get0(sig.get(), &r, &sv);
            const int size = s.alg == Alg::es256 ? 32 : 48;
            return bn_bytes(r, size) + bn_bytes(sv, size);
        }
        case Alg::eddsa:
            return digest_sign(s.pkey, nullptr, false, input);
    }
    throw std::runtime_error("sign: unknown alg");
}

std::string b64(std::string_view bytes) { return base64url_encode(bytes); }

std::string b64_json(const boost::json::object& o) {
    return base64url_encode(boost::json::serialize(o));
}

std::string join(std::string_view header, std::string_view payload, std::string_view signature) {
    return std::string(header) + "." + std::string(payload) + "." + std::string(signature);
}

std::string make_jwt(boost::json::object header, const boost::json::object& claims,
                     const Signer& signer) {
    if (!header.contains("alg")) header["alg"] = to_string(signer.alg);
    const std::string input = b64_json(header) + "." + b64_json(claims);
    return input + "." + b64(sign(signer, input));
}

std::string make_jwt(const Signer& signer, const boost::json::object& claims,
                     std::string_view kid) {
    boost::json::object header;
    header["alg"] = to_string(signer.alg);
    header["typ"] = "JWT";
    if (!kid.empty()) header["kid"] = kid;
    return make_jwt(std::move(header), claims, signer);
}

}  // namespace herald::security::testing
