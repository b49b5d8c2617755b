#pragma once
// Rate limits (DESIGN.md §6): token buckets, one per principal (or client address when anonymous)
// per route and per topic, and on WebSocket per message.
//
// A bucket holds up to `burst` tokens and gains `rate_per_second` tokens per second; a request
// takes n tokens or is refused. Time is always passed in (steady clock), so tests run on a
// ManualClock and the hot path makes no clock call of its own.
//
// Response headers follow draft-ietf-httpapi-ratelimit-headers-07 (June 2023), the draft that
// introduced the two-field form; later drafts changed the syntax again, so the version is pinned
// here:
//     RateLimit-Policy: <burst>;w=<window seconds>        e.g. "20;w=2" for 10/s with a burst of 20
//     RateLimit: limit=<burst>, remaining=<n>, reset=<seconds until the bucket is full again>
//     Retry-After: <seconds> (RFC 9110 §10.2.3), on 429 only
// For a token bucket the window is the time to refill from empty: ceil(burst / rate), at least 1.
//
// Threading: TokenBucket and KeyedRateLimiter are not thread-safe. Each worker owns its own
// limiters (limits are then per worker; with SO_REUSEPORT spreading connections evenly, divide the
// configured rate by the worker count, or guard one shared limiter with a mutex where exact global
// limits matter).

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/result.hpp"
#include "security/principal.hpp"

namespace herald::security {

struct RateLimitPolicy {
    double rate_per_second = 10;  // sustained rate; > 0
    std::uint32_t burst = 20;     // bucket capacity; >= 1

    // Errc::invalid_argument naming "rate" or "burst".
    Result<void> validate() const;
    // Seconds to refill the bucket from empty: the RateLimit-Policy window.
    std::chrono::seconds window() const noexcept;
};

struct RateDecision {
    bool allowed = true;
    std::uint32_t limit = 0;      // the policy's burst
    std::uint32_t remaining = 0;  // whole tokens left after this decision
    std::chrono::milliseconds retry_after{
        0};  // when refused: until n tokens are available; 0 when allowed
    std::chrono::milliseconds reset{0};  // until the bucket is full again
};

class TokenBucket {
public:
    using time_point = std::chrono::steady_clock::time_point;

    // Starts full. The policy must be valid (see RateLimitPolicy::validate).
    TokenBucket(RateLimitPolicy policy, time_point now) noexcept;

    // Takes n tokens if available. n > burst is never allowed (retry_after then says when the
    // bucket is full, which is the best a client can do). n == 0 only reports.
    RateDecision try_take(std::uint32_t n, time_point now) noexcept;

    // Tokens available at `now` (fractional).
    double tokens(time_point now) const noexcept;
    // Full at `now`: indistinguishable from a new bucket, so it can be dropped without changing
    // behaviour.
    bool idle(time_point now) const noexcept;
    const RateLimitPolicy& policy() const noexcept { return policy_; }

private:
    void refill(time_point now) noexcept;
    RateDecision decision(bool allowed, double needed) const noexcept;

    RateLimitPolicy policy_;
    double tokens_;
    time_point last_;
};

// Counters for metrics (herald_security_ratelimit_*). Plain integers: the limiter is
// single-threaded.
struct RateLimiterStats {
    std::uint64_t allowed = 0;
    std::uint64_t refused = 0;
    std::uint64_t evicted_idle = 0;  // buckets dropped because they were full (lossless)
    std::uint64_t evicted_active =
        0;  // buckets dropped at the entry cap while not full (state lost)
};

// Buckets by key ("jwt:<iss>|<sub>|route:/v1/topics", "addr:203.0.113.9|topic:orders"), one policy
// for all. Memory is bounded: at most max_entries buckets. Idle (full) buckets are dropped first
// and cost nothing to drop; at the cap the least recently used bucket is dropped even if not full,
// which can hand a client a fresh burst — the price of a hard memory bound, counted in
// stats().evicted_active so it can be alerted on.
class KeyedRateLimiter {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit KeyedRateLimiter(RateLimitPolicy policy, std::size_t max_entries = 100'000);
    // Not copyable: the index holds views of keys and iterators into the LRU list. Movable.
    KeyedRateLimiter(const KeyedRateLimiter&) = delete;
    KeyedRateLimiter& operator=(const KeyedRateLimiter&) = delete;
    KeyedRateLimiter(KeyedRateLimiter&&) = default;
    KeyedRateLimiter& operator=(KeyedRateLimiter&&) = default;

    RateDecision try_take(std::string_view key, std::uint32_t n, time_point now);

    // Drops every idle bucket; returns how many. Optional: try_take already drops idle buckets it
    // meets at the cold end of the LRU list, so memory stays near the number of recently active
    // keys.
    std::size_t sweep(time_point now);

    std::size_t size() const noexcept { return index_.size(); }
    std::size_t max_entries() const noexcept { return max_entries_; }
    const RateLimitPolicy& policy() const noexcept { return policy_; }
    const RateLimiterStats& stats() const noexcept { return stats_; }

private:
    struct Entry {
        std::string key;
        TokenBucket bucket;
    };
    using List = std::list<Entry>;  // most recently used first

    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    void erase(List::iterator it);

    RateLimitPolicy policy_;
    std::size_t max_entries_;
    List lru_;
    // Keys are views of Entry::key (list nodes never move), so each key is stored once.
    std::unordered_map<std::string_view, List::iterator, Hash, std::equal_to<>> index_;
    RateLimiterStats stats_;
};

// The bucket key for a request: the principal's identity (Principal::rate_limit_key), or
// "addr:<client address>" for anonymous principals, then "|" and what is limited
// ("route:/v1/topics", "topic:orders", "ws:publish"). Principals of different kinds or issuers
// never share a bucket.
std::string make_rate_limit_key(const Principal& principal, std::string_view client_address,
                                std::string_view limited);

// "20;w=2"
std::string format_ratelimit_policy(const RateLimitPolicy& policy);
// "limit=20, remaining=5, reset=1" (reset rounded up to whole seconds)
std::string format_ratelimit(const RateDecision& decision);
// Whole seconds, rounded up, at least 1: "3".
std::string format_retry_after(const RateDecision& decision);

// Of two decisions for the same request (route limit and topic limit), the one to report: a refusal
// over an allowance, else the one with fewer remaining tokens.
const RateDecision& most_restrictive(const RateDecision& a, const RateDecision& b) noexcept;

// A KeyedRateLimiter shared by threads (every worker's requests count against one limit, whatever worker a
// connection landed on): a mutex held for one bucket update.
class SharedRateLimiter {
public:
    explicit SharedRateLimiter(RateLimitPolicy policy) : limiter_(policy) {}
    RateDecision take(std::string_view key, std::uint32_t n) {
        std::lock_guard lock(mutex_);
        return limiter_.try_take(key, n, std::chrono::steady_clock::now());
    }
    const RateLimitPolicy& policy() const noexcept { return limiter_.policy(); }

private:
    std::mutex mutex_;
    KeyedRateLimiter limiter_;
};

}  // namespace herald::security
