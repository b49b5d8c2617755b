#include "security/alg.hpp"

#include <array>

namespace herald::security {
namespace {

constexpr std::array<std::string_view, kAlgCount> kNames = {
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
    "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
};

constexpr char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string_view to_string(Alg alg) noexcept {
    const auto i = static_cast<std::size_t>(alg);
    return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

std::optional<Alg> alg_from_string(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name) return static_cast<Alg>(i);
    }
    return std::nullopt;
}

bool is_alg_none(std::string_view name) noexcept {
    constexpr std::string_view none = "none";
    if (name.size() != none.size()) return false;
    for (std::size_t i = 0; i < none.size(); ++i) {
        if (lower(name[i]) != none[i]) return false;
    }
    return true;
}

std::vector<Alg> AlgSet::members() const {
    std::vector<Alg> out;
    for (int i = 0; i < kAlgCount; ++i) {
        if (contains(static_cast<Alg>(i))) out.push_back(static_cast<Alg>(i));
    }
    return out;
}

std::string AlgSet::to_string() const {
    std::string out;
    for (Alg a : members()) {
        if (!out.empty()) out.push_back(',');
        out += security::to_string(a);
    }
    return out;
}

Result<AlgSet> parse_alg_list(const std::vector<std::string>& names) {
    AlgSet set;
    for (const auto& name : names) {
        if (is_alg_none(name)) {
            return make_error(Errc::invalid_argument, "\"none\" can never be an allowed algorithm",
                              name);
        }
        const auto alg = alg_from_string(name);
        if (!alg) {
            return make_error(
                Errc::invalid_argument,
                "unknown JWS algorithm \"" + name + "\" (known: " + AlgSet::all().to_string() + ")",
                name);
        }
        set.insert(*alg);
    }
    return set;
}

}  // namespace herald::security
