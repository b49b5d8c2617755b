#include "base/base64.hpp"

namespace herald {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v =
            (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t v = std::uint32_t{bytes[i]} << 16;
        if (rest == 2) v |= std::uint32_t{bytes[i + 1]} << 8;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(rest == 2 ? alphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

Result<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    auto bad = [](std::string why) {
        return make_error(Errc::invalid_argument, "invalid base64: " + why);
    };
    // Padding is optional, but when present it must complete the last quantum.
    std::size_t pad = 0;
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
        ++pad;
    }
    if (pad > 2) return bad("too much padding");
    if (pad > 0 && (text.size() + pad) % 4 != 0)
        return bad("padding does not complete a 4-character group");
    if (text.size() % 4 == 1) return bad("length is not possible for base64");
    std::vector<std::uint8_t> out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = decode_char(c);
        if (v < 0)
            return bad(c == '-' || c == '_' ? "the URL-safe alphabet is not accepted"
                                            : "unexpected character");
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
        }
    }
    // Leftover bits must be zero, otherwise two different texts would decode to the same bytes.
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return bad("non-zero trailing bits");
    return out;
}

}  // namespace herald
