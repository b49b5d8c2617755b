#include "security/jwk.hpp"

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include <array>
#include <boost/json.hpp>

#include "security/base64url.hpp"
#include "base/ossl.hpp"

namespace herald::security {
namespace {

Error invalid(std::string message, std::string attribute = {}) {
    return make_error(Errc::invalid_argument, std::move(message), std::move(attribute));
}

// Decides what an EVP_PKEY is and whether Herald may verify with it.
Result<KeyType> classify(EVP_PKEY* pkey) {
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        const int bits = EVP_PKEY_get_bits(pkey);
        if (bits < kMinRsaBits) {
            return invalid("RSA key of " + std::to_string(bits) + " bits is too weak (at least " +
                           std::to_string(kMinRsaBits) + " required)");
        }
        if (bits > kMaxRsaBits) {
            return invalid("RSA key of " + std::to_string(bits) +
                           " bits is larger than the supported " + std::to_string(kMaxRsaBits));
        }
        return KeyType::rsa;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char name[64] = {};
        std::size_t len = 0;
        if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1) {
            return invalid(
                "EC key without a named curve (explicit curve parameters are not supported)");
        }
        const std::string_view group(name, len);
        if (group == "prime256v1" || group == "P-256" || group == "secp256r1")
            return KeyType::ec_p256;
        if (group == "secp384r1" || group == "P-384") return KeyType::ec_p384;
        return invalid("EC curve " + std::string(group) +
                       " is not supported (P-256 and P-384 are)");
    }
    if (EVP_PKEY_is_a(pkey, "ED25519")) return KeyType::ed25519;
    if (EVP_PKEY_is_a(pkey, "RSA-PSS")) {
        return invalid(
            "RSA-PSS-restricted keys are not supported; publish the key as a plain RSA key");
    }
    return invalid("unsupported key type " + std::string(EVP_PKEY_get0_type_name(pkey)
                                                             ? EVP_PKEY_get0_type_name(pkey)
                                                             : "(unknown)"));
}

// Checks that a public key is internally consistent (for EC: the point is on the curve).
Result<void> public_check(EVP_PKEY* pkey) {
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
        return invalid("public key failed validation: " + ossl::last_error());
    }
    return ok();
}

Result<AlgSet> narrow(KeyType type, AlgSet possible, const std::optional<Alg>& alg) {
    if (!alg) return possible;
    if (!algs_for(type).contains(*alg)) {
        return invalid("alg " + std::string(to_string(*alg)) + " does not suit a " +
                           std::string(to_string(type)) + " key",
                       "alg");
    }
    if (!possible.contains(*alg)) {
        return invalid("alg " + std::string(to_string(*alg)) + " needs a longer secret", "alg");
    }
    return AlgSet{*alg};
}

Result<void> check_kid(const std::string& kid) {
    if (kid.size() > kMaxKidBytes)
        return invalid("kid is longer than " + std::to_string(kMaxKidBytes) + " bytes", "kid");
    return ok();
}

// ---- JWK members
// ------------------------------------------------------------------------------------------

const boost::json::value* member(const boost::json::object& o, std::string_view name) {
    return o.if_contains(name);
}

Result<std::string> string_member(const boost::json::object& o, std::string_view name,
                                  bool required) {
    const auto* v = member(o, name);
    if (!v) {
        if (required)
            return invalid("JWK member \"" + std::string(name) + "\" is required",
                           std::string(name));
        return std::string();
    }
    if (!v->is_string())
        return invalid("JWK member \"" + std::string(name) + "\" must be a string",
                       std::string(name));
    return std::string(v->get_string());
}

Result<std::string> bytes_member(const boost::json::object& o, std::string_view name) {
    auto text = string_member(o, name, true);
    if (!text) return std::move(text).error();
    auto bytes = base64url_decode(*text, Base64Padding::allowed);
    if (!bytes)
        return invalid("JWK member \"" + std::string(name) + "\": " + bytes.error().message,
                       std::string(name));
    if (bytes->empty())
        return invalid("JWK member \"" + std::string(name) + "\" is empty", std::string(name));
    return std::move(bytes).value();
}

Result<void> refuse_private(const boost::json::object& o,
                            std::initializer_list<std::string_view> names) {
    for (auto n : names) {
        if (o.contains(n)) {
            return invalid("JWK holds private key material (\"" + std::string(n) +
                               "\"); a verifier needs only the public key",
                           std::string(n));
        }
    }
    return ok();
}

Result<ossl::PkeyPtr> from_params(const char* type, OSSL_PARAM_BLD* bld) {
    ossl::ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 ||
        raw == nullptr) {
        return invalid(std::string("cannot build the ") + type + " key: " + ossl::last_error());
    }
    return ossl::PkeyPtr(raw);
}

Result<ossl::PkeyPtr> rsa_from_jwk(const boost::json::object& o) {
    if (auto r = refuse_private(o, {"d", "p", "q", "dp", "dq", "qi", "oth"}); !r)
        return std::move(r).error();
    auto n = bytes_member(o, "n");
    if (!n) return std::move(n).error();
    auto e = bytes_member(o, "e");
    if (!e) return std::move(e).error();
    if (n->size() > kMaxRsaBits / 8 + 1) return invalid("RSA modulus is too large", "n");
    if (e->size() > 8) return invalid("RSA public exponent is too large", "e");
    ossl::BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                               static_cast<int>(n->size()), nullptr));
    ossl::BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                               static_cast<int>(e->size()), nullptr));
    ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        return invalid("cannot build the RSA key: " + ossl::last_error());
    }
    return from_params("RSA", bld.get());
}

Result<ossl::PkeyPtr> ec_from_jwk(const boost::json::object& o) {
    if (auto r = refuse_private(o, {"d"}); !r) return std::move(r).error();
    auto crv = string_member(o, "crv", true);
    if (!crv) return std::move(crv).error();
    std::size_t size = 0;
    if (*crv == "P-256") {
        size = 32;
    } else if (*crv == "P-384") {
        size = 48;
    } else {
        return invalid("unsupported EC curve \"" + *crv + "\" (P-256 and P-384 are supported)",
                       "crv");
    }
    auto x = bytes_member(o, "x");
    if (!x) return std::move(x).error();
    auto y = bytes_member(o, "y");
    if (!y) return std::move(y).error();
    // RFC 7518 §6.2.1.2: the coordinates are the full size of the field, leading zeros included.
    if (x->size() != size)
        return invalid("EC x coordinate must be " + std::to_string(size) + " bytes", "x");
    if (y->size() != size)
        return invalid("EC y coordinate must be " + std::to_string(size) + " bytes", "y");
    std::string point;
    point.reserve(1 + 2 * size);
    point.push_back('\x04');  // uncompressed point (SEC 1 §2.3.3)
    point += *x;
    point += *y;
    ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, crv->c_str(), 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        return invalid("cannot build the EC key: " + ossl::last_error());
    }
    return from_params("EC", bld.get());
}

Result<ossl::PkeyPtr> okp_from_jwk(const boost::json::object& o) {
    if (auto r = refuse_private(o, {"d"}); !r) return std::move(r).error();
    auto crv = string_member(o, "crv", true);
    if (!crv) return std::move(crv).error();
    if (*crv != "Ed25519")
        return invalid("unsupported OKP curve \"" + *crv + "\" (Ed25519 is supported)", "crv");
    auto x = bytes_member(o, "x");
    if (!x) return std::move(x).error();
    if (x->size() != 32) return invalid("Ed25519 public key must be 32 bytes", "x");
    ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(),
                                                 x->size()) != 1) {
        return invalid("cannot build the Ed25519 key: " + ossl::last_error());
    }
    return from_params("ED25519", bld.get());
}

// `use` and `key_ops` say whether the publisher meant this key for verifying signatures.
Result<void> check_intended_use(const boost::json::object& o) {
    auto use = string_member(o, "use", false);
    if (!use) return std::move(use).error();
    if (!use->empty() && *use != "sig")
        return invalid("key is for \"use\":\"" + *use + "\", not \"sig\"", "use");
    if (const auto* ops = member(o, "key_ops")) {
        if (!ops->is_array()) return invalid("JWK member \"key_ops\" must be an array", "key_ops");
        bool verify = false;
        for (const auto& op : ops->get_array()) {
            if (op.is_string() && op.get_string() == "verify") verify = true;
        }
        if (!verify) return invalid("key_ops does not include \"verify\"", "key_ops");
    }
    return ok();
}

std::string json_kid(const boost::json::object& o) {
    const auto* v = o.if_contains("kid");
    return (v && v->is_string()) ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::string_view to_string(KeyType type) noexcept {
    switch (type) {
        case KeyType::hmac:
            return "hmac";
        case KeyType::rsa:
            return "rsa";
        case KeyType::ec_p256:
            return "ec_p256";
        case KeyType::ec_p384:
            return "ec_p384";
        case KeyType::ed25519:
            return "ed25519";
    }
    return "unknown";
}

AlgSet algs_for(KeyType type) noexcept {
    switch (type) {
        case KeyType::hmac:
            return AlgSet::hmac();
        case KeyType::rsa:
            return AlgSet::rsa();
        case KeyType::ec_p256:
            return AlgSet{Alg::es256};
        case KeyType::ec_p384:
            return AlgSet{Alg::es384};
        case KeyType::ed25519:
            return AlgSet{Alg::eddsa};
    }
    return {};
}

Result<Key> Key::hmac_secret(std::string secret, KeyOptions options) {
    if (auto r = check_kid(options.kid); !r) return std::move(r).error();
    if (secret.size() < kMinHmacSecretBytes) {
        OPENSSL_cleanse(secret.data(), secret.size());
        return invalid("HMAC secret of " + std::to_string(secret.size()) +
                           " bytes is too short (at least " + std::to_string(kMinHmacSecretBytes) +
                           " required)",
                       "secret");
    }
    // RFC 7518 §3.2: the key must be at least as long as the hash output.
    AlgSet possible{Alg::hs256};
    if (secret.size() >= 48) possible.insert(Alg::hs384);
    if (secret.size() >= 64) possible.insert(Alg::hs512);
    auto algs = narrow(KeyType::hmac, possible, options.alg);
    if (!algs) {
        OPENSSL_cleanse(secret.data(), secret.size());
        return std::move(algs).error();
    }
    Key key;
    key.type_ = KeyType::hmac;
    key.kid_ = std::move(options.kid);
    key.algs_ = *algs;
    key.secret_ = std::shared_ptr<const std::string>(
        new std::string(std::move(secret)), [](const std::string* s) {
            OPENSSL_cleanse(const_cast<char*>(s->data()), s->size());
            delete s;
        });
    return key;
}

Result<Key> Key::from_evp(EVP_PKEY* pkey, KeyOptions options) {
    if (pkey == nullptr) return invalid("no key");
    if (auto r = check_kid(options.kid); !r) return std::move(r).error();
    auto type = classify(pkey);
    if (!type) return std::move(type).error();
    if (auto r = public_check(pkey); !r) return std::move(r).error();
    auto algs = narrow(*type, algs_for(*type), options.alg);
    if (!algs) return std::move(algs).error();
    if (EVP_PKEY_up_ref(pkey) != 1) return invalid("cannot reference the key");
    Key key;
    key.type_ = *type;
    key.kid_ = std::move(options.kid);
    key.algs_ = *algs;
    key.pkey_ = ossl::share(ossl::PkeyPtr(pkey));
    return key;
}

Result<Key> Key::from_pem(std::string_view pem, KeyOptions options) {
    constexpr std::string_view kBegin = "-----BEGIN ";
    const auto begin = pem.find(kBegin);
    if (begin == std::string_view::npos) return invalid("no PEM block found");
    const auto label_end = pem.find("-----", begin + kBegin.size());
    if (label_end == std::string_view::npos) return invalid("unterminated PEM header");
    const std::string label(pem.substr(begin + kBegin.size(), label_end - begin - kBegin.size()));
    const std::string end_marker = "-----END " + label + "-----";
    const auto end = pem.find(end_marker, label_end);
    if (end == std::string_view::npos)
        return invalid("PEM block \"" + label + "\" has no END line");
    const std::string_view block = pem.substr(begin, end + end_marker.size() - begin);

    if (label.find("PRIVATE") != std::string::npos) {
        return invalid("PEM holds a private key (\"" + label +
                       "\"); configure the public key instead");
    }
    ossl::BioPtr bio(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
    if (!bio) return invalid("cannot read PEM: " + ossl::last_error());

    ossl::PkeyPtr pkey;
    if (label == "CERTIFICATE") {
        ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!cert) return invalid("cannot parse the PEM certificate: " + ossl::last_error());
        pkey.reset(X509_get_pubkey(cert.get()));
        if (!pkey)
            return invalid("the certificate's public key is unreadable: " + ossl::last_error());
    } else if (label == "PUBLIC KEY" || label == "RSA PUBLIC KEY") {
        EVP_PKEY* raw = nullptr;
        ossl::DecoderCtxPtr dctx(OSSL_DECODER_CTX_new_for_pkey(
            &raw, "PEM", nullptr, nullptr, EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
        const auto* data = reinterpret_cast<const unsigned char*>(block.data());
        std::size_t len = block.size();
        if (!dctx || OSSL_DECODER_from_data(dctx.get(), &data, &len) != 1 || raw == nullptr) {
            return invalid("cannot parse the PEM public key: " + ossl::last_error());
        }
        pkey.reset(raw);
    } else {
        return invalid("unsupported PEM block \"" + label +
                       "\" (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)");
    }
    return from_evp(pkey.get(), std::move(options));
}

Result<Key> Key::from_jwk(const boost::json::object& o, const JwkOptions& jwk_options) {
    auto kty = string_member(o, "kty", true);
    if (!kty) return std::move(kty).error();
    KeyOptions options;
    auto kid = string_member(o, "kid", false);
    if (!kid) return std::move(kid).error();
    options.kid = std::move(kid).value();
    if (auto r = check_intended_use(o); !r) return std::move(r).error();
    auto alg_name = string_member(o, "alg", false);
    if (!alg_name) return std::move(alg_name).error();
    if (!alg_name->empty()) {
        if (is_alg_none(*alg_name)) return invalid("\"alg\":\"none\" is never accepted", "alg");
        options.alg = alg_from_string(*alg_name);
        if (!options.alg) return invalid("unsupported alg \"" + *alg_name + "\"", "alg");
    }

    if (*kty == "oct") {
        if (!jwk_options.allow_symmetric) {
            return invalid("symmetric (oct) keys are not accepted from this source", "kty");
        }
        auto k = bytes_member(o, "k");
        if (!k) return std::move(k).error();
        return hmac_secret(std::move(k).value(), std::move(options));
    }
    Result<ossl::PkeyPtr> pkey =
        invalid("unsupported kty \"" + *kty + "\" (RSA, EC, OKP and oct are)", "kty");
    if (*kty == "RSA") {
        pkey = rsa_from_jwk(o);
    } else if (*kty == "EC") {
        pkey = ec_from_jwk(o);
    } else if (*kty == "OKP") {
        pkey = okp_from_jwk(o);
    }
    if (!pkey) return std::move(pkey).error();
    return from_evp(pkey->get(), std::move(options));
}

Result<Key> Key::from_jwk(std::string_view json, const JwkOptions& options) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(json, ec);
    if (ec) return invalid("JWK is not valid JSON: " + ec.message());
    if (!v.is_object()) return invalid("JWK must be a JSON object");
    return from_jwk(v.get_object(), options);
}

bool KeySet::contains_kid(std::string_view kid) const noexcept {
    for (const auto& k : keys_) {
        if (k.kid() == kid) return true;
    }
    return false;
}

Result<JwksParseResult> parse_jwks(std::string_view json, const JwkOptions& options) {
    if (json.size() > kMaxJwksBytes) {
        return make_error(Errc::payload_too_large,
                          "JWKS document of " + std::to_string(json.size()) +
                              " bytes is over the limit of " + std::to_string(kMaxJwksBytes));
    }
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(json, ec);
    if (ec) return invalid("JWKS is not valid JSON: " + ec.message());
    if (!doc.is_object()) return invalid("JWKS must be a JSON object");
    const auto* keys = doc.get_object().if_contains("keys");
    if (!keys || !keys->is_array()) return invalid("JWKS has no \"keys\" array", "keys");

    JwksParseResult out;
    const auto& array = keys->get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
        const std::string where = "keys[" + std::to_string(i) + "]";
        if (i >= kMaxJwksKeys) {
            out.notes.push_back(where + " and later: skipped (more than " +
                                std::to_string(kMaxJwksKeys) + " keys)");
            break;
        }
        if (!array[i].is_object()) {
            out.notes.push_back(where + ": skipped (not a JSON object)");
            continue;
        }
        const auto& jwk = array[i].get_object();
        auto key = Key::from_jwk(jwk, options);
        if (!key) {
            const std::string kid = json_kid(jwk);
            out.notes.push_back(where + (kid.empty() ? std::string() : " (kid \"" + kid + "\")") +
                                ": skipped: " + key.error().message);
            continue;
        }
        out.keys.add(std::move(key).value());
    }
    return out;
}

}  // namespace herald::security
