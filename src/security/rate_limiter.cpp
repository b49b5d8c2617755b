#include "security/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace herald::security {
namespace {

using Seconds = std::chrono::duration<double>;

std::chrono::milliseconds ceil_ms(double seconds) noexcept {
    if (!(seconds > 0)) return std::chrono::milliseconds(0);
    constexpr double kMax = 1e12;  // about 31 years: far beyond any useful retry hint
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(std::ceil(std::min(seconds, kMax) * 1000.0)));
}

std::int64_t ceil_seconds(std::chrono::milliseconds ms) noexcept {
    return (ms.count() + 999) / 1000;
}

}  // namespace

Result<void> RateLimitPolicy::validate() const {
    if (!(rate_per_second > 0) || !std::isfinite(rate_per_second)) {
        return make_error(Errc::invalid_argument,
                          "rate must be a positive number of requests per second", "rate");
    }
    if (burst < 1) return make_error(Errc::invalid_argument, "burst must be at least 1", "burst");
    return ok();
}

std::chrono::seconds RateLimitPolicy::window() const noexcept {
    const double s = std::ceil(static_cast<double>(burst) / rate_per_second);
    return std::chrono::seconds(
        std::max<std::int64_t>(1, static_cast<std::int64_t>(std::min(s, 1e9))));
}

TokenBucket::TokenBucket(RateLimitPolicy policy, time_point now) noexcept
    : policy_(policy), tokens_(static_cast<double>(policy.burst)), last_(now) {}

void TokenBucket::refill(time_point now) noexcept {
    if (now <= last_) return;  // a clock that steps back never mints tokens
    const double elapsed = std::chrono::duration_cast<Seconds>(now - last_).count();
    tokens_ =
        std::min(static_cast<double>(policy_.burst), tokens_ + elapsed * policy_.rate_per_second);
    last_ = now;
}

double TokenBucket::tokens(time_point now) const noexcept {
    if (now <= last_) return tokens_;
    const double elapsed = std::chrono::duration_cast<Seconds>(now - last_).count();
    return std::min(static_cast<double>(policy_.burst),
                    tokens_ + elapsed * policy_.rate_per_second);
}

bool TokenBucket::idle(time_point now) const noexcept {
    return tokens(now) >= static_cast<double>(policy_.burst);
}

RateDecision TokenBucket::decision(bool allowed, double needed) const noexcept {
    RateDecision d;
    d.allowed = allowed;
    d.limit = policy_.burst;
    // A tiny epsilon keeps 2.9999999 (float refill) from reporting as 2 remaining.
    d.remaining = static_cast<std::uint32_t>(std::max(0.0, std::floor(tokens_ + 1e-9)));
    d.reset = ceil_ms((static_cast<double>(policy_.burst) - tokens_) / policy_.rate_per_second);
    if (!allowed)
        d.retry_after = std::max(ceil_ms((needed - tokens_) / policy_.rate_per_second),
                                 std::chrono::milliseconds(1));
    return d;
}

RateDecision TokenBucket::try_take(std::uint32_t n, time_point now) noexcept {
    refill(now);
    const double need = static_cast<double>(n);
    if (n > policy_.burst) return decision(false, static_cast<double>(policy_.burst));
    if (tokens_ + 1e-9 >= need) {
        tokens_ = std::max(0.0, tokens_ - need);
        return decision(true, 0);
    }
    return decision(false, need);
}

KeyedRateLimiter::KeyedRateLimiter(RateLimitPolicy policy, std::size_t max_entries)
    : policy_(policy), max_entries_(std::max<std::size_t>(1, max_entries)) {
    index_.reserve(std::min<std::size_t>(max_entries_, 1024));
}

void KeyedRateLimiter::erase(List::iterator it) {
    index_.erase(std::string_view(it->key));
    lru_.erase(it);
}

RateDecision KeyedRateLimiter::try_take(std::string_view key, std::uint32_t n, time_point now) {
    auto found = index_.find(key);
    List::iterator it;
    if (found != index_.end()) {
        it = found->second;
        lru_.splice(lru_.begin(), lru_,
                    it);  // most recently used to the front; iterators stay valid
    } else {
        // Drop a couple of idle buckets from the cold end (amortised sweeping), then enforce the
        // cap.
        for (int i = 0; i < 2 && !lru_.empty() && lru_.back().bucket.idle(now); ++i) {
            erase(std::prev(lru_.end()));
            ++stats_.evicted_idle;
        }
        if (index_.size() >= max_entries_) {
            erase(std::prev(lru_.end()));
            ++stats_.evicted_active;
        }
        lru_.push_front(Entry{std::string(key), TokenBucket(policy_, now)});
        it = lru_.begin();
        index_.emplace(std::string_view(it->key), it);
    }
    RateDecision d = it->bucket.try_take(n, now);
    ++(d.allowed ? stats_.allowed : stats_.refused);
    return d;
}

std::size_t KeyedRateLimiter::sweep(time_point now) {
    std::size_t dropped = 0;
    for (auto it = lru_.begin(); it != lru_.end();) {
        auto next = std::next(it);
        if (it->bucket.idle(now)) {
            erase(it);
            ++dropped;
        }
        it = next;
    }
    stats_.evicted_idle += dropped;
    return dropped;
}

std::string make_rate_limit_key(const Principal& principal, std::string_view client_address,
                                std::string_view limited) {
    std::string key = principal.rate_limit_key();
    if (key.empty()) key = "addr:" + std::string(client_address);
    key += '|';
    key += limited;
    return key;
}

std::string format_ratelimit_policy(const RateLimitPolicy& policy) {
    return std::to_string(policy.burst) + ";w=" + std::to_string(policy.window().count());
}

std::string format_ratelimit(const RateDecision& d) {
    return "limit=" + std::to_string(d.limit) + ", remaining=" + std::to_string(d.remaining) +
           ", reset=" + std::to_string(ceil_seconds(d.reset));
}

std::string format_retry_after(const RateDecision& d) {
    return std::to_string(std::max<std::int64_t>(1, ceil_seconds(d.retry_after)));
}

const RateDecision& most_restrictive(const RateDecision& a, const RateDecision& b) noexcept {
    if (a.allowed != b.allowed) return a.allowed ? b : a;
    if (!a.allowed) return a.retry_after >= b.retry_after ? a : b;
    return a.remaining <= b.remaining ? a : b;
}

}  // namespace herald::security
