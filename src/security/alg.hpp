#pragma once
// JWS signature algorithms (RFC 7518 §3, RFC 8037 §3.1) that Herald verifies, and sets of them.
// "none" is not an Alg: it cannot be named, configured or allowed.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace herald::security {

enum class Alg : std::uint8_t {
    hs256,
    hs384,
    hs512,  // HMAC with SHA-2
    rs256,
    rs384,
    rs512,  // RSASSA-PKCS1-v1_5
    ps256,
    ps384,
    ps512,  // RSASSA-PSS, MGF1 with the same hash, salt length = hash length
    es256,
    es384,  // ECDSA on P-256 / P-384, signature is raw r||s
    eddsa,  // Ed25519 (RFC 8037; Ed448 is not supported)
};

inline constexpr int kAlgCount = 12;

// The JOSE name: "HS256", ..., "EdDSA".
std::string_view to_string(Alg alg) noexcept;

// Exact, case-sensitive JOSE name to Alg. Unknown names, and "none" in any spelling, give nullopt.
std::optional<Alg> alg_from_string(std::string_view name) noexcept;

// True for "none" in any letter case: the caller reports Reason::alg_none rather than
// unsupported_alg.
bool is_alg_none(std::string_view name) noexcept;

// A set of algorithms (a bit set; cheap to copy).
class AlgSet {
public:
    constexpr AlgSet() = default;
    constexpr AlgSet(std::initializer_list<Alg> algs) {
        for (Alg a : algs) insert(a);
    }

    static constexpr AlgSet all() { return AlgSet(std::uint16_t{(1u << kAlgCount) - 1}); }
    static constexpr AlgSet hmac() { return {Alg::hs256, Alg::hs384, Alg::hs512}; }
    static constexpr AlgSet rsa() {
        return {Alg::rs256, Alg::rs384, Alg::rs512, Alg::ps256, Alg::ps384, Alg::ps512};
    }

    constexpr void insert(Alg a) { bits_ |= bit(a); }
    constexpr void erase(Alg a) { bits_ &= static_cast<std::uint16_t>(~bit(a)); }
    constexpr bool contains(Alg a) const { return (bits_ & bit(a)) != 0; }
    constexpr bool empty() const { return bits_ == 0; }
    constexpr AlgSet operator&(AlgSet o) const {
        return AlgSet(static_cast<std::uint16_t>(bits_ & o.bits_));
    }
    constexpr AlgSet operator|(AlgSet o) const {
        return AlgSet(static_cast<std::uint16_t>(bits_ | o.bits_));
    }
    constexpr bool operator==(const AlgSet&) const = default;

    // The members in enum order.
    std::vector<Alg> members() const;
    // "RS256,ES256" (for logs and diagnostics).
    std::string to_string() const;

private:
    constexpr explicit AlgSet(std::uint16_t bits) : bits_(bits) {}
    static constexpr std::uint16_t bit(Alg a) {
        return static_cast<std::uint16_t>(1u << static_cast<int>(a));
    }

    std::uint16_t bits_ = 0;
};

// Configuration helper: names to a set. Errc::invalid_argument naming the first unknown entry (and
// refusing "none" explicitly, so the operator learns why).
Result<AlgSet> parse_alg_list(const std::vector<std::string>& names);

}  // namespace herald::security
