#include "security/base64url.hpp"

#include <array>
#include <cstdint>

namespace herald::security {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::uint8_t kInvalid = 0xFF;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t) v = kInvalid;
    for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = i;
    return t;
}

constexpr auto kDecode = make_decode_table();

Error fault(std::string what, std::size_t pos) {
    return make_error(Errc::invalid_argument,
                      "invalid base64url: " + what + " at offset " + std::to_string(pos));
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    const auto b = [&](std::size_t k) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
    };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
        out.push_back(kAlphabet[v & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = b(i) << 16;
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
    } else if (rest == 2) {
        const std::uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
    }
    return out;
}

Result<std::string> base64url_decode(std::string_view text, Base64Padding padding) {
    // Strip correct padding first (when allowed); any '=' left afterwards is misplaced.
    if (padding == Base64Padding::allowed && !text.empty() && text.back() == '=') {
        if (text.size() % 4 != 0)
            return fault("padding to a length that is not a multiple of 4", text.size());
        std::size_t pad = 0;
        while (!text.empty() && text.back() == '=' && pad < 3) {
            text.remove_suffix(1);
            ++pad;
        }
        if (pad > 2 || (text.size() % 4) + pad != 4)
            return fault("wrong amount of padding", text.size());
    }
    if (text.size() % 4 == 1) return fault("truncated input (length 1 mod 4)", text.size());

    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::uint8_t v = kDecode[static_cast<unsigned char>(text[i])];
        if (v == kInvalid) {
            return fault(text[i] == '=' ? std::string("misplaced padding")
                                        : std::string("invalid character"),
                         i);
        }
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    // 2 or 4 bits may remain; they must be zero or the encoding is not the canonical one for these
    // bytes.
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return fault("non-zero trailing bits", text.size() - 1);
    return out;
}

}  // namespace herald::security
