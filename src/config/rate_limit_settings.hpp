#pragma once
// A token bucket as written in herald.yaml. Its own header because two sections use it:
// `rate_limits:` (event endpoints, config.hpp) and each REST route's `policy.rate_limit`
// (proxy_settings.hpp) — one policy model.

#include <cstdint>

namespace herald::config {

// A token bucket; rate 0 disables it.
struct RateLimitSettings {
    double rate = 0;          // per second
    std::uint32_t burst = 0;  // 0: max(1, rate)
    bool enabled() const noexcept { return rate > 0; }
};

}  // namespace herald::config
