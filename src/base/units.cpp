#include "base/units.hpp"

#include <cstdint>
#include <string>

namespace herald {

Result<std::int64_t> parse_duration_ms(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == 0 || i > 15) return make_error(Errc::invalid_argument, "expected a duration such as 100ms, 15s, 5m, 24h, 7d");
    auto n = std::stoll(std::string(text.substr(0, i)));
    std::string unit(text.substr(i));
    std::int64_t mult = 0;
    if (unit.empty() || unit == "ms") mult = 1;
    else if (unit == "s") mult = 1000;
    else if (unit == "m") mult = 60'000;
    else if (unit == "h") mult = 3'600'000;
    else if (unit == "d") mult = 86'400'000;
    else return make_error(Errc::invalid_argument, "unknown duration unit '" + unit + "' (use ms, s, m, h or d)");
    if (n > INT64_MAX / mult) return make_error(Errc::invalid_argument, "duration too large");
    return n * mult;
}

Result<std::uint64_t> parse_bytes(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == 0 || i > 15) return make_error(Errc::invalid_argument, "expected a size such as 512KiB, 64MiB, 1GiB");
    auto n = std::stoull(std::string(text.substr(0, i)));
    std::string unit(text.substr(i));
    std::uint64_t mult = 0;
    if (unit.empty() || unit == "B") mult = 1;
    else if (unit == "KiB") mult = 1ull << 10;
    else if (unit == "MiB") mult = 1ull << 20;
    else if (unit == "GiB") mult = 1ull << 30;
    else if (unit == "KB") mult = 1000;
    else if (unit == "MB") mult = 1000'000;
    else if (unit == "GB") mult = 1000'000'000;
    else return make_error(Errc::invalid_argument, "unknown size unit '" + unit + "' (use B, KiB, MiB, GiB, KB, MB, GB)");
    if (n > UINT64_MAX / mult) return make_error(Errc::invalid_argument, "size too large");
    return n * mult;
}

}  // namespace herald
