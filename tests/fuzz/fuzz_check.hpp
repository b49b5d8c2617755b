#pragma once
// Helpers shared by the fuzz targets in tests/fuzz (docs/reliability.md).
//
// HERALD_FUZZ_CHECK states an invariant of the code under test. A violation prints the condition
// and traps, so libFuzzer stops, saves the input as a crash artifact and the reproducer can be
// replayed with `<target>_fuzz <file>`. It does not depend on NDEBUG, unlike assert().

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#define HERALD_FUZZ_CHECK(cond)                                                            \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", #cond, __FILE__, \
                         __LINE__);                                                        \
            __builtin_trap();                                                              \
        }                                                                                  \
    } while (0)

namespace herald::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const char*>(data), size};
}

// A deliberately plain UTF-8 validator (RFC 3629), written from the RFC's table rather than shared
// with src/, so targets can check the optimised validators against it.
inline bool reference_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (b0 <= 0x7F) {
            ++i;
            continue;
        } else if ((b0 & 0xE0) == 0xC0) {
            len = 2;
            cp = b0 & 0x1F;
        } else if ((b0 & 0xF0) == 0xE0) {
            len = 3;
            cp = b0 & 0x0F;
        } else if ((b0 & 0xF8) == 0xF0) {
            len = 4;
            cp = b0 & 0x07;
        } else {
            return false;
        }
        if (s.size() - i < len) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3F);
        }
        const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

}  // namespace herald::fuzz
