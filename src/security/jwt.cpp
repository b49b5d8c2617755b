#include "security/jwt.hpp"

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <boost/json.hpp>
#include <cmath>
#include <unordered_set>

#include "security/base64url.hpp"
#include "security/crypto.hpp"
#include "base/ossl.hpp"

namespace herald::security {
namespace {

// Attacker-controlled strings (iss, kid) are quoted in error details; keep them short.
std::string quoted(std::string_view s) {
    constexpr std::size_t kMax = 80;
    std::string out = "\"";
    out.append(s.substr(0, kMax));
    if (s.size() > kMax) out += "...";
    out += "\"";
    return out;
}

Result<boost::json::object> decode_json_object(std::string_view segment, const char* what) {
    auto bytes = base64url_decode(segment);
    if (!bytes)
        return make_error(Errc::invalid_argument, std::string(what) + ": " + bytes.error().message);
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(*bytes, ec);
    if (ec) return make_error(Errc::invalid_argument, std::string(what) + " is not valid JSON");
    if (!v.is_object())
        return make_error(Errc::invalid_argument, std::string(what) + " is not a JSON object");
    return std::move(v.get_object());
}

const EVP_MD* digest_for(Alg alg) noexcept {
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
            return nullptr;  // Ed25519 hashes internally
    }
    return nullptr;
}

enum class Padding { none, pkcs1, pss };

// One-shot EVP_DigestVerify; true when the signature verifies.
bool evp_verify(EVP_PKEY* pkey, const EVP_MD* md, Padding padding, std::string_view data,
                std::string_view sig) {
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey) == 1;
    if (ok && padding == Padding::pkcs1) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    } else if (ok && padding == Padding::pss) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    }
    ok = ok &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    if (!ok)
        ERR_clear_error();  // a failed verification is an answer, not an error to leave on the
                            // queue
    return ok;
}

// JWS carries ECDSA signatures as the fixed-size big-endian r || s (RFC 7518 §3.4); OpenSSL wants
// DER.
std::optional<std::string> ecdsa_raw_to_der(std::string_view raw) {
    const std::size_t half = raw.size() / 2;
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
    ossl::BnPtr r(BN_bin2bn(p, static_cast<int>(half), nullptr));
    ossl::BnPtr s(BN_bin2bn(p + half, static_cast<int>(half), nullptr));
    ossl::EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
    r.release();  // now owned by sig
    s.release();
    const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) return std::nullopt;
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &out) != len) return std::nullopt;
    return der;
}

// NumericDate (RFC 7519 §2): a JSON number of seconds, possibly fractional.
Expected<std::optional<double>, JwtError> numeric_date(const boost::json::object& claims,
                                                       std::string_view name) {
    const auto* v = claims.if_contains(name);
    if (!v) return std::optional<double>();
    if (v->is_int64()) return std::optional<double>(static_cast<double>(v->get_int64()));
    if (v->is_uint64()) return std::optional<double>(static_cast<double>(v->get_uint64()));
    if (v->is_double() && std::isfinite(v->get_double()))
        return std::optional<double>(v->get_double());
    return jwt_error(Reason::invalid_claim,
                     "claim \"" + std::string(name) + "\" is not a NumericDate");
}

std::chrono::system_clock::time_point to_time_point(double seconds) {
    using namespace std::chrono;
    // system_clock counts nanoseconds in 64 bits (until 2262); dates past that are "never" for our
    // purposes.
    constexpr double kMaxSeconds = 9.0e9;
    if (seconds >= kMaxSeconds) return system_clock::time_point::max();
    if (seconds <= -kMaxSeconds) return system_clock::time_point::min();
    return system_clock::time_point(
        duration_cast<system_clock::duration>(duration<double>(seconds)));
}

std::string string_claim(const boost::json::object& claims, std::string_view name) {
    const auto* v = claims.if_contains(name);
    return (v && v->is_string()) ? std::string(v->get_string()) : std::string();
}

}  // namespace

Expected<Jwt, JwtError> parse_jwt(std::string_view token, const JwtLimits& limits) {
    if (token.size() > limits.max_token_bytes) {
        return jwt_error(Reason::token_too_large,
                         "token too large: " + std::to_string(token.size()) + " bytes, limit " +
                             std::to_string(limits.max_token_bytes));
    }
    const auto d1 = token.find('.');
    const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
        return jwt_error(Reason::malformed,
                         "not a compact JWS (expected three dot-separated segments)");
    }
    const auto header_segment = token.substr(0, d1);
    const auto payload_segment = token.substr(d1 + 1, d2 - d1 - 1);
    const auto signature_segment = token.substr(d2 + 1);
    if (header_segment.size() > limits.max_header_bytes) {
        return jwt_error(Reason::token_too_large,
                         "token too large: header of " + std::to_string(header_segment.size()) +
                             " bytes, limit " + std::to_string(limits.max_header_bytes));
    }

    Jwt jwt;
    auto header = decode_json_object(header_segment, "header");
    if (!header) return jwt_error(Reason::malformed, header.error().message);
    jwt.header = std::move(header).value();

    const auto* alg = jwt.header.if_contains("alg");
    if (!alg || !alg->is_string())
        return jwt_error(Reason::malformed, "header has no \"alg\" string");
    const std::string_view alg_name = alg->get_string();
    if (is_alg_none(alg_name)) return jwt_error(Reason::alg_none, "alg \"none\" is never accepted");
    const auto known = alg_from_string(alg_name);
    if (!known) return jwt_error(Reason::unsupported_alg, "unsupported alg " + quoted(alg_name));
    jwt.alg = *known;

    if (jwt.header.contains("crit")) {
        return jwt_error(Reason::malformed,
                         "header parameter \"crit\" names extensions Herald does not implement");
    }
    if (const auto* kid = jwt.header.if_contains("kid")) {
        if (!kid->is_string())
            return jwt_error(Reason::malformed, "header \"kid\" is not a string");
        if (kid->get_string().size() > kMaxKidBytes)
            return jwt_error(Reason::malformed, "header \"kid\" is too long");
        jwt.kid = std::string(kid->get_string());
    }
    if (const auto* typ = jwt.header.if_contains("typ")) {
        if (!typ->is_string())
            return jwt_error(Reason::malformed, "header \"typ\" is not a string");
        jwt.typ = std::string(typ->get_string());
    }
    if (const auto* cty = jwt.header.if_contains("cty")) {
        if (cty->is_string() && (cty->get_string() == "JWT" || cty->get_string() == "jwt")) {
            return jwt_error(Reason::malformed, "nested JWTs are not supported");
        }
    }

    auto claims = decode_json_object(payload_segment, "payload");
    if (!claims) return jwt_error(Reason::malformed, claims.error().message);
    jwt.claims = std::move(claims).value();

    auto signature = base64url_decode(signature_segment);
    if (!signature) return jwt_error(Reason::malformed, "signature: " + signature.error().message);
    jwt.signature = std::move(signature).value();
    jwt.signing_input = std::string(token.substr(0, d2));
    return jwt;
}

Expected<void, JwtError> verify_signature(const Jwt& jwt, const Key& key) {
    if (!key.allows(jwt.alg)) {
        return jwt_error(Reason::alg_not_allowed,
                         "alg " + std::string(to_string(jwt.alg)) + " is not allowed for " +
                             std::string(to_string(key.type())) + " key" +
                             (key.kid().empty() ? "" : " " + quoted(key.kid())));
    }
    const auto bad = [&](std::string why) {
        return jwt_error(Reason::bad_signature, std::move(why));
    };
    const EVP_MD* md = digest_for(jwt.alg);
    switch (jwt.alg) {
        case Alg::hs256:
        case Alg::hs384:
        case Alg::hs512: {
            if (key.type() != KeyType::hmac) return bad("not an HMAC key");
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned int mac_len = 0;
            const auto secret = key.secret();
            if (HMAC(md, secret.data(), static_cast<int>(secret.size()),
                     reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                     jwt.signing_input.size(), mac, &mac_len) == nullptr) {
                ERR_clear_error();
                return bad("HMAC computation failed");
            }
            if (!constant_time_equal(std::string_view(reinterpret_cast<const char*>(mac), mac_len),
                                     jwt.signature)) {
                return bad("signature does not verify");
            }
            return {};
        }
        case Alg::rs256:
        case Alg::rs384:
        case Alg::rs512:
        case Alg::ps256:
        case Alg::ps384:
        case Alg::ps512: {
            if (key.type() != KeyType::rsa || key.evp() == nullptr) return bad("not an RSA key");
            if (jwt.signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.evp()))) {
                return bad("signature length " + std::to_string(jwt.signature.size()) +
                           " does not match the key");
            }
            const bool pss =
                jwt.alg == Alg::ps256 || jwt.alg == Alg::ps384 || jwt.alg == Alg::ps512;
            if (!evp_verify(key.evp(), md, pss ? Padding::pss : Padding::pkcs1, jwt.signing_input,
                            jwt.signature)) {
                return bad("signature does not verify");
            }
            return {};
        }
        case Alg::es256:
        case Alg::es384: {
            const std::size_t expected = jwt.alg == Alg::es256 ? 64 : 96;
            if (jwt.signature.size() != expected) {
                return bad("ECDSA signature must be " + std::to_string(expected) +
                           " bytes of r||s, got " + std::to_string(jwt.signature.size()));
            }
            const auto der = ecdsa_raw_to_der(jwt.signature);
            if (!der) return bad("ECDSA signature cannot be encoded");
            if (!evp_verify(key.evp(), md, Padding::none, jwt.signing_input, *der)) {
                return bad("signature does not verify");
            }
            return {};
        }
        case Alg::eddsa: {
            if (jwt.signature.size() != 64) return bad("Ed25519 signature must be 64 bytes");
            if (!evp_verify(key.evp(), nullptr, Padding::none, jwt.signing_input, jwt.signature)) {
                return bad("signature does not verify");
            }
            return {};
        }
    }
    return bad("unknown algorithm");
}

Expected<void, JwtError> check_claims(const boost::json::object& claims, const IssuerConfig& issuer,
                                      std::chrono::system_clock::time_point now) {
    const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
    const double leeway = static_cast<double>(issuer.leeway.count());

    auto exp = numeric_date(claims, "exp");
    if (!exp) return std::move(exp).error();
    if (!*exp) {
        if (issuer.require_exp)
            return jwt_error(Reason::missing_claim, "claim \"exp\" is required");
    } else if (now_s >= **exp + leeway) {
        return jwt_error(Reason::expired, "token expired");
    }
    auto nbf = numeric_date(claims, "nbf");
    if (!nbf) return std::move(nbf).error();
    if (*nbf && now_s + leeway < **nbf)
        return jwt_error(Reason::not_yet_valid, "token is not valid yet (nbf)");
    auto iat = numeric_date(claims, "iat");
    if (!iat) return std::move(iat).error();
    if (*iat && now_s + leeway < **iat)
        return jwt_error(Reason::issued_in_future, "token is issued in the future");

    if (const auto* sub = claims.if_contains("sub"); sub && !sub->is_string()) {
        return jwt_error(Reason::invalid_claim, "claim \"sub\" is not a string");
    }

    if (const auto* aud = claims.if_contains("aud")) {
        std::vector<std::string_view> auds;
        if (aud->is_string()) {
            auds.push_back(aud->get_string());
        } else if (aud->is_array()) {
            for (const auto& a : aud->get_array()) {
                if (!a.is_string())
                    return jwt_error(Reason::invalid_claim, "claim \"aud\" holds a non-string");
                auds.push_back(a.get_string());
            }
        } else {
            return jwt_error(Reason::invalid_claim,
                             "claim \"aud\" is not a string or an array of strings");
        }
        if (issuer.audiences.empty()) {
            return jwt_error(Reason::wrong_audience,
                             "token names an audience but none is configured for its issuer");
        }
        bool match = false;
        for (auto a : auds) {
            for (const auto& want : issuer.audiences) {
                if (a == want) match = true;
            }
        }
        if (!match) return jwt_error(Reason::wrong_audience, "token is not for this audience");
    } else if (!issuer.audiences.empty()) {
        return jwt_error(Reason::wrong_audience, "token has no \"aud\" claim");
    }

    for (const auto& name : issuer.required_claims) {
        if (!claims.contains(name))
            return jwt_error(Reason::missing_claim, "claim " + quoted(name) + " is required");
    }
    return {};
}

Result<Verifier> Verifier::create(std::vector<IssuerConfig> issuers, JwtLimits limits) {
    std::unordered_set<std::string> seen;
    for (const auto& i : issuers) {
        if (!seen.insert(i.issuer).second) {
            return make_error(
                Errc::invalid_argument,
                i.issuer.empty()
                    ? std::string("more than one issuer matches tokens without \"iss\"")
                    : "issuer \"" + i.issuer + "\" is configured twice",
                "issuer");
        }
        if (i.allowed_algs.empty()) {
            return make_error(Errc::invalid_argument,
                              "issuer \"" + i.issuer + "\" allows no algorithm", "issuer");
        }
        if (i.scope_claim.empty()) {
            return make_error(Errc::invalid_argument,
                              "issuer \"" + i.issuer + "\" has an empty scope claim name",
                              "scope_claim");
        }
    }
    return Verifier(std::move(issuers), limits);
}

const IssuerConfig* Verifier::find_issuer(std::string_view iss, bool has_iss) const noexcept {
    for (const auto& i : issuers_) {
        if (has_iss ? (!i.issuer.empty() && i.issuer == iss) : i.issuer.empty()) return &i;
    }
    return nullptr;
}

Result<void> Verifier::set_keys(std::string_view issuer, KeySet keys) {
    for (auto& i : issuers_) {
        if (i.issuer == issuer) {
            i.keys = std::move(keys);
            return ok();
        }
    }
    return make_error(Errc::not_found, "no issuer \"" + std::string(issuer) + "\"", "issuer");
}

Expected<VerifiedJwt, JwtError> Verifier::verify(std::string_view token,
                                                 std::chrono::system_clock::time_point now) const {
    auto parsed = parse_jwt(token, limits_);
    if (!parsed) return std::move(parsed).error();
    Jwt& jwt = *parsed;

    std::string iss;
    const auto* iss_value = jwt.claims.if_contains("iss");
    if (iss_value) {
        if (!iss_value->is_string())
            return jwt_error(Reason::invalid_claim, "claim \"iss\" is not a string");
        iss = std::string(iss_value->get_string());
    }
    const auto fail = [&](Reason reason, std::string detail) {
        return JwtError{reason, std::move(detail), iss, jwt.kid};
    };
    const IssuerConfig* issuer = find_issuer(iss, iss_value != nullptr);
    if (issuer == nullptr) {
        return fail(Reason::wrong_issuer, iss_value ? "issuer " + quoted(iss) + " is not trusted"
                                                    : std::string("token has no \"iss\" claim"));
    }
    if (!issuer->allowed_algs.contains(jwt.alg)) {
        return fail(Reason::alg_not_allowed,
                    "alg " + std::string(to_string(jwt.alg)) + " is not allowed for this issuer");
    }
    if (issuer->keys.empty())
        return fail(Reason::keys_unavailable, "no keys are loaded for this issuer yet");

    // Candidate keys: the token's kid picks keys with that id; keys configured without an id stand
    // for any kid. Without a kid, every key is a candidate. Then keep those that allow the token's
    // alg.
    std::vector<const Key*> by_id;
    for (const auto& k : issuer->keys) {
        if (jwt.kid.empty() || k.kid() == jwt.kid) by_id.push_back(&k);
    }
    if (by_id.empty()) {
        for (const auto& k : issuer->keys) {
            if (k.kid().empty()) by_id.push_back(&k);
        }
    }
    if (by_id.empty()) return fail(Reason::unknown_kid, "no key with kid " + quoted(jwt.kid));
    std::vector<const Key*> candidates;
    for (const Key* k : by_id) {
        if (k->allows(jwt.alg)) candidates.push_back(k);
    }
    if (candidates.empty()) {
        return fail(Reason::alg_not_allowed,
                    "alg " + std::string(to_string(jwt.alg)) + " is not allowed for " +
                        (jwt.kid.empty() ? std::string("any key of this issuer")
                                         : "key " + quoted(jwt.kid)));
    }
    const Key* used = nullptr;
    for (std::size_t i = 0; i < candidates.size() && i < kMaxKeyCandidates; ++i) {
        if (verify_signature(jwt, *candidates[i])) {
            used = candidates[i];
            break;
        }
    }
    if (used == nullptr) return fail(Reason::bad_signature, "signature does not verify");

    if (auto c = check_claims(jwt.claims, *issuer, now); !c) {
        return fail(c.error().reason, c.error().detail);
    }

    VerifiedJwt out;
    if (const auto* claim = jwt.claims.if_contains(issuer->scope_claim)) {
        auto scopes = parse_scope_claim(*claim);
        if (!scopes)
            return fail(Reason::invalid_claim,
                        "claim " + quoted(issuer->scope_claim) + ": " + scopes.error().message);
        out.scopes = std::move(scopes).value();
    }
    out.issuer = std::move(iss);
    out.subject = string_claim(jwt.claims, "sub");
    if (out.subject.empty()) out.subject = string_claim(jwt.claims, "client_id");
    if (out.subject.empty()) out.subject = string_claim(jwt.claims, "azp");
    out.kid = used->kid();
    out.alg = jwt.alg;
    if (const auto* exp = jwt.claims.if_contains("exp")) {
        out.expires_at = to_time_point(exp->to_number<double>());
    }
    out.leeway = issuer->leeway;
    out.claims = std::make_shared<const boost::json::object>(std::move(jwt.claims));
    return out;
}

}  // namespace herald::security
