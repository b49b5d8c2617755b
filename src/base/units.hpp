#pragma once
// Human-written quantities in configuration and API bodies: durations and byte sizes.

#include <cstdint>
#include <string_view>

#include "base/result.hpp"

namespace herald {

// "100ms", "15s", "5m", "24h", "7d", or a bare number of milliseconds.
Result<std::int64_t> parse_duration_ms(std::string_view text);
// "64MiB", "512KiB", "1GiB", "10MB", or a bare number of bytes.
Result<std::uint64_t> parse_bytes(std::string_view text);

}  // namespace herald
