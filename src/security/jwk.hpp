#pragma once
// Verification keys: where they come from (an HMAC secret, a PEM public key or certificate, a JWK,
// a JWKS document) and what each may be used for.
//
// Algorithm confusion is prevented here, at the key: every Key carries the set of algorithms it may
// verify, derived from its type and narrowed by an explicit `alg` (JWK member or configuration). An
// HMAC secret can only ever verify HS*; an RSA key only RS*/PS*; an EC key only the ES* of its own
// curve; an Ed25519 key only EdDSA. Public keys are never turned into HMAC secrets (no code path
// reads a PEM or JWK as bytes for HMAC), so "HS256 signed with the RSA public key as the secret"
// has nothing to succeed against.
//
// Strength floors (RFC 7518 §3.2, §3.3): RSA moduli below 2048 bits are refused; HMAC secrets
// shorter than the hash output are not allowed for that hash (a 32-byte secret verifies HS256 only;
// below 32 bytes it is refused).
//
// Ownership and threading: Key and KeySet are values; copies share the immutable underlying
// EVP_PKEY (or secret) by reference count. A Key is immutable after construction and may be used
// from any number of threads at once.

#include <openssl/types.h>

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "security/alg.hpp"

namespace herald::security {

enum class KeyType : std::uint8_t { hmac, rsa, ec_p256, ec_p384, ed25519 };

// "hmac", "rsa", "ec_p256", "ec_p384", "ed25519".
std::string_view to_string(KeyType type) noexcept;

// Every algorithm a key of this type could verify (before narrowing by `alg` or secret length).
AlgSet algs_for(KeyType type) noexcept;

inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 16384;
inline constexpr std::size_t kMinHmacSecretBytes = 32;
inline constexpr std::size_t kMaxKidBytes = 256;

// Identity and restriction supplied by the configuration for keys that do not carry their own (PEM,
// secrets).
struct KeyOptions {
    std::string
        kid{};  // empty: the key has no id and is a candidate for any token of a matching alg
    std::optional<Alg> alg{};  // when set, the key verifies this algorithm only
};

// How JWKs are accepted.
struct JwkOptions {
    // Accept "kty":"oct" (HMAC secrets). A JWKS fetched from a URL is published to the world, so a
    // secret in it is either a mistake or an attack: the JWKS cache turns this off.
    bool allow_symmetric = true;
};

class Key {
public:
    // An HMAC secret (raw bytes, not base64). Errc::invalid_argument if shorter than
    // kMinHmacSecretBytes, or shorter than the hash output of options.alg, or if options.alg is not
    // an HS* algorithm.
    static Result<Key> hmac_secret(std::string secret, KeyOptions options = {});

    // A public key in PEM: "PUBLIC KEY" (SubjectPublicKeyInfo), "RSA PUBLIC KEY" (PKCS#1) or
    // "CERTIFICATE" (its subject public key is used; the certificate's validity and chain are not
    // checked — it is only a container here). The first PEM block is used. Private keys are refused
    // with a message saying so.
    static Result<Key> from_pem(std::string_view pem, KeyOptions options = {});

    // A JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2): kty RSA (n, e), EC (crv P-256/P-384, x, y),
    // OKP (crv Ed25519, x) or oct (k). Honours `use` (must be "sig" when present), `key_ops` (must
    // contain "verify" when present), `alg` (narrows the key; must suit the key type) and `kid`.
    // Private members (d, p, q, ...) are refused: a verifier never needs them and their presence
    // means a private key is being published. Errc::invalid_argument naming the offending member.
    static Result<Key> from_jwk(const boost::json::object& jwk, const JwkOptions& options = {});
    static Result<Key> from_jwk(std::string_view json, const JwkOptions& options = {});

    // Wraps an already-built public key (tests, or an integrator holding an EVP_PKEY). Takes one
    // reference: the caller keeps its own. Same type and strength checks as from_pem.
    static Result<Key> from_evp(EVP_PKEY* pkey, KeyOptions options = {});

    KeyType type() const noexcept { return type_; }
    const std::string& kid() const noexcept { return kid_; }
    AlgSet algs() const noexcept { return algs_; }
    bool allows(Alg alg) const noexcept { return algs_.contains(alg); }

    // The public key; null for HMAC keys.
    EVP_PKEY* evp() const noexcept { return pkey_.get(); }
    // The HMAC secret; empty for asymmetric keys.
    std::string_view secret() const noexcept {
        return secret_ ? std::string_view(*secret_) : std::string_view();
    }

private:
    Key() = default;

    KeyType type_ = KeyType::hmac;
    std::string kid_;
    AlgSet algs_;
    std::shared_ptr<EVP_PKEY> pkey_;
    std::shared_ptr<const std::string>
        secret_;  // wiped with OPENSSL_cleanse when the last copy goes
};

// The keys of one issuer. Order is kept (it is the order keys are tried in when a token has no
// kid).
class KeySet {
public:
    KeySet() = default;
    explicit KeySet(std::vector<Key> keys) : keys_(std::move(keys)) {}

    void add(Key key) { keys_.push_back(std::move(key)); }
    std::size_t size() const noexcept { return keys_.size(); }
    bool empty() const noexcept { return keys_.empty(); }
    const std::vector<Key>& keys() const noexcept { return keys_; }
    auto begin() const noexcept { return keys_.begin(); }
    auto end() const noexcept { return keys_.end(); }

    // True when some key has exactly this kid.
    bool contains_kid(std::string_view kid) const noexcept;

private:
    std::vector<Key> keys_;
};

inline constexpr std::size_t kMaxJwksBytes = 1 << 20;
inline constexpr std::size_t kMaxJwksKeys = 100;

struct JwksParseResult {
    KeySet keys;
    // One sentence per key that was skipped ("keys[2] (kid \"abc\"): unsupported crv \"P-521\""),
    // for a log line at refresh. Skipping is not failing: an identity provider may publish
    // encryption keys, or curves Herald does not verify, beside the signing keys it needs.
    std::vector<std::string> notes;
};

// A JWK Set document ({"keys":[...]}). Fails (Errc::invalid_argument) only when the document as a
// whole is unusable: over kMaxJwksBytes, not JSON, not an object, no "keys" array. Individual keys
// that are unsupported or invalid are skipped with a note; keys beyond kMaxJwksKeys are skipped
// with one note. A set with zero usable keys is returned as such; the caller decides whether that
// is an error (the JWKS cache treats it as a failed fetch).
Result<JwksParseResult> parse_jwks(std::string_view json, const JwkOptions& options = {});

}  // namespace herald::security
