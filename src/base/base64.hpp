#pragma once
// Standard base64 (RFC 4648 §4). Encoding always pads; decoding is strict: the standard alphabet only, padding
// optional but complete when present, no whitespace, zero trailing bits (so every byte string has exactly one
// accepted text).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace herald {

std::string base64_encode(std::span<const std::uint8_t> bytes);
inline std::string base64_encode(std::string_view bytes) {
    return base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}
// Errc::invalid_argument, with the reason, on anything but base64 text.
Result<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace herald
