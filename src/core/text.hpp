#pragma once
// Private to the core module: byte-level text helpers shared by cloud_event.cpp and codec.cpp
// (UTF-8 decoding, ASCII case folding, media-type splitting). Not part of the module's API; other
// modules must not include it. Everything here is a pure function of its arguments.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald::core::detail {

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

inline std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

inline std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

// Decodes one code point of strict UTF-8 (RFC 3629) starting at s[i] and advances i past it.
// Rejects overlong forms, surrogates (U+D800..U+DFFF), values above U+10FFFF and truncated
// sequences; the HTTP binding requires exactly this ("%C0%A0" is an overlong space and MUST be
// rejected).
inline bool next_code_point(std::string_view s, std::size_t& i, char32_t& cp) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
        cp = b0;
        i += 1;
        return true;
    }
    std::size_t len = 0;
    char32_t min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        cp = b0 & 0x1F;
        min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        cp = b0 & 0x0F;
        min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return false;  // continuation byte in lead position, C0/C1 (always overlong) or F5..FF
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
        const unsigned char b = byte(i + k);
        if ((b & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
    return true;
}

inline bool is_valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    char32_t cp = 0;
    while (i < s.size()) {
        // ASCII fast path: most attribute values and payloads are plain ASCII.
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        if (!next_code_point(s, i, cp)) return false;
    }
    return true;
}

// The type and subtype of a media type, lower-cased, and its parameter section (from the first ';',
// possibly empty). Syntax is not checked here; is_media_type() does that.
struct MediaTypeParts {
    std::string type;
    std::string subtype;
    std::string_view parameters;
};

inline MediaTypeParts split_media_type(std::string_view media_type) {
    MediaTypeParts parts;
    const std::size_t semi = media_type.find(';');
    std::string_view essence = media_type.substr(0, semi);
    if (semi != std::string_view::npos) parts.parameters = media_type.substr(semi);
    const std::size_t slash = essence.find('/');
    if (slash == std::string_view::npos) {
        parts.type = to_lower(trim_ows(essence));
        return parts;
    }
    parts.type = to_lower(trim_ows(essence.substr(0, slash)));
    parts.subtype = to_lower(trim_ows(essence.substr(slash + 1)));
    return parts;
}

}  // namespace herald::core::detail
