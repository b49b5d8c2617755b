#pragma once
// When to try a webhook delivery again, and whether to try at all.
//
// An event's first attempt goes out immediately; after the n-th failed attempt the next one waits
// schedule[n-1] (Standard Webhooks' schedule by default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h —
// eight attempts spread over about 27.5 hours). When the schedule is exhausted the event goes to
// the dead-letter queue. A subscription that has been failing without a single success for
// `disable_after` is disabled by the caller.
//
// Jitter: each delay is drawn uniformly from [d/2, d] rather than "full jitter" [0, d]. The point
// of jitter here is to spread the retries of many subscriptions that failed together (one receiver
// down, thousands of queued events) so that they do not hit the receiver in one burst when it comes
// back. Full jitter would do that too, but it can collapse a 10-hour step into seconds, which
// breaks the schedule's promise of giving an outage that long to heal; [d/2, d] keeps at least half
// of every step, so the spacing between attempts keeps its shape and the whole schedule still
// covers at least half its nominal span.
//
// Retry-After (on 429 and 503 mostly) lengthens a delay, never shortens it — a receiver cannot make
// Herald hammer it with "Retry-After: 0" — and is capped at `max_retry_after` so a bogus date
// cannot park an event for years.
//
// Everything here is pure (the RNG and the current time are parameters) and safe from any thread.

#include <chrono>
#include <concepts>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace herald::webhook {

// 5s, 5m, 30m, 2h, 5h, 10h, 10h.
std::vector<std::chrono::milliseconds> default_retry_schedule();

struct RetryPolicy {
    // Delay before attempt n+1, for n = 1..size(). Empty: no retries (the first failure
    // dead-letters).
    std::vector<std::chrono::milliseconds> schedule = default_retry_schedule();
    bool jitter = true;
    // The caller disables a subscription that has failed continuously for this long.
    std::chrono::milliseconds disable_after = std::chrono::hours(24 * 5);
    // Upper bound on a delay taken from Retry-After.
    std::chrono::milliseconds max_retry_after = std::chrono::hours(24);
};

// What to do after an attempt.
enum class Outcome {
    success,  // 2xx: delivered
    retry,    // transient: timeout, connection or TLS failure, 5xx, 429, 408
    // permanent: other 4xx; 3xx (redirects are not followed); a final 1xx or other nonsense;
    // a destination refused by the SSRF guard
    dead_letter,
    gone,  // 410 Gone: the receiver asks to stop; the caller disables the subscription
};
const char* to_string(Outcome o) noexcept;

// What the classifier needs to know about an attempt.
struct AttemptResult {
    int status = 0;  // HTTP status; 0 when no response arrived
    bool transport_error =
        false;             // no (complete) response: DNS, connect, TLS, timeout, protocol error
    bool timeout = false;  // the transport error was a timeout (informational; also a retry)
    bool blocked = false;  // the SSRF guard refused the destination: retrying cannot help
};

Outcome classify(const AttemptResult& r) noexcept;

// The delay before the next attempt, given that `attempts_made` attempts (>= 1) have failed;
// nullopt when the schedule is exhausted (the event goes to the DLQ). `attempts_made` == 0 answers
// zero (the first attempt is immediate). `unit` is a uniform random number in [0, 1) used for
// jitter; `retry_after` is the receiver's hint.
std::optional<std::chrono::milliseconds> next_delay_at(
    const RetryPolicy& policy, unsigned attempts_made,
    std::optional<std::chrono::milliseconds> retry_after, double unit);

// Same, drawing the jitter from `rng` (std::mt19937_64 in production, a seeded one in tests).
template <std::uniform_random_bit_generator Rng>
std::optional<std::chrono::milliseconds> next_delay(
    const RetryPolicy& policy, unsigned attempts_made,
    std::optional<std::chrono::milliseconds> retry_after, Rng& rng) {
    const double unit = policy.jitter ? std::generate_canonical<double, 53>(rng) : 1.0;
    return next_delay_at(policy, attempts_made, retry_after, unit);
}

// A Retry-After header value (RFC 9110 §10.2.3): delta-seconds ("120") or an IMF-fixdate
// ("Sun, 06 Nov 1994 08:49:37 GMT"), as a delay from `now`. A date in the past gives zero. nullopt
// when the value is neither (the obsolete RFC 850 and asctime date forms are not accepted). Huge
// values saturate; the policy caps them.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// Limits on a configured schedule.
inline constexpr std::size_t max_schedule_steps = 50;
inline constexpr std::chrono::milliseconds max_schedule_step = std::chrono::hours(24 * 7);

// One step: "250ms", "5s", "5m", "2h", "1d" or a bare number of milliseconds; 0 to 7 days.
Result<std::chrono::milliseconds> parse_retry_delay(std::string_view text);
// A schedule from config entries (YAML list) or a comma-separated string ("5s, 5m, 30m"). At least
// one and at most 50 steps. Errc::invalid_argument naming the offending entry (1-based).
Result<std::vector<std::chrono::milliseconds>> parse_retry_schedule(
    std::span<const std::string> entries);
Result<std::vector<std::chrono::milliseconds>> parse_retry_schedule(
    std::string_view comma_separated);
// The inverse, for config dumps and API views: "5s,5m,30m,2h,5h,10h,10h" (largest exact unit per
// step).
std::string format_retry_schedule(std::span<const std::chrono::milliseconds> schedule);

}  // namespace herald::webhook
