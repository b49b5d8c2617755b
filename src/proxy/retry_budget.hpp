#pragma once
// When a failed upstream attempt may be tried again, and how many retries an upstream can absorb.
//
// A retry is considered only when all of these hold (decide_retry, in this order, so the verdict
// names the first rule that said no):
//   1. the failure is retryable: the connection could not be established, or the answer was 502,
//      503 or 504;
//   2. the method is idempotent (RFC 9110 §9.2.2: GET HEAD OPTIONS PUT DELETE TRACE) — a POST that
//      timed out may have been applied, and applying it twice is the client's call, not the
//      gateway's;
//   3. the request body can be sent again: it was not streamed past the replay buffer;
//   4. the route's retry count is not used up;
//   5. the upstream's retry budget allows one more (RetryBudget below).
//
// The budget keeps retries from multiplying load on an upstream that is already failing (a retry
// storm): a retry may start while the retries in flight stay below ratio × the requests in flight
// (Envoy's budget_percent), or while fewer than min_retries_per_second retries have started in the
// current second (Linkerd's floor, so that a quiet upstream with one request in flight can still
// retry). With the defaults (0.2, 10/s) a failing upstream sees at most about 20% extra load above
// ten retries a second.
//
// Threading: RetryBudget is shared by every worker that talks to the upstream. It is lock-free: the
// counts are atomics, and the per-second floor packs (second, count) into one 64-bit word updated
// by compare-and-swap, so neither limit can be overshot by concurrent callers. The other functions
// are pure.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/clock.hpp"
#include "config/proxy_settings.hpp"

namespace herald::proxy {

using RetryBudgetSettings = config::RetryBudgetSettings;

// GET HEAD OPTIONS PUT DELETE TRACE (case-sensitive, as methods are).
bool is_idempotent(std::string_view method) noexcept;

// How an attempt failed.
struct AttemptFailure {
    enum class Kind : std::uint8_t {
        // no connection (refused, unreachable, TLS handshake, connect timeout): nothing was sent
        connect,
        status,  // an answer with `status`
        // the exchange broke after the request was (partly) sent: reset, read timeout, bad answer
        transport,
    };
    Kind kind = Kind::connect;
    unsigned status = 0;
};

// Connect failures and 502/503/504.
bool is_retryable(const AttemptFailure& failure) noexcept;

class RetryBudget {
public:
    RetryBudget(RetryBudgetSettings settings, const Clock& clock)
        : settings_(settings), clock_(clock) {}
    RetryBudget(const RetryBudget&) = delete;
    RetryBudget& operator=(const RetryBudget&) = delete;

    // Counts one request in flight (first attempt and its retries together) for as long as it
    // lives.
    class RequestToken {
    public:
        RequestToken() = default;
        explicit RequestToken(RetryBudget* b) noexcept : b_(b) {}
        RequestToken(RequestToken&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
        RequestToken& operator=(RequestToken&& o) noexcept;
        ~RequestToken() { release(); }
        void release() noexcept;

    private:
        RetryBudget* b_ = nullptr;
    };

    // Counts one retry in flight for as long as it lives.
    class RetryToken {
    public:
        RetryToken() = default;
        explicit RetryToken(RetryBudget* b) noexcept : b_(b) {}
        RetryToken(RetryToken&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
        RetryToken& operator=(RetryToken&& o) noexcept;
        ~RetryToken() { release(); }
        void release() noexcept;
        explicit operator bool() const noexcept { return b_ != nullptr; }

    private:
        RetryBudget* b_ = nullptr;
    };

    RequestToken begin_request() noexcept;
    // A retry token when the budget allows one more retry now; nullopt when it is exhausted.
    std::optional<RetryToken> try_begin_retry() noexcept;

    std::uint64_t active_requests() const noexcept {
        return requests_.load(std::memory_order_relaxed);
    }
    std::uint64_t active_retries() const noexcept {
        return retries_.load(std::memory_order_relaxed);
    }
    std::uint64_t retries_granted() const noexcept {
        return granted_.load(std::memory_order_relaxed);
    }
    std::uint64_t retries_refused() const noexcept {
        return refused_.load(std::memory_order_relaxed);
    }
    const RetryBudgetSettings& settings() const noexcept { return settings_; }

private:
    bool take_ratio() noexcept;
    bool take_floor() noexcept;

    RetryBudgetSettings settings_;
    const Clock& clock_;
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> retries_{0};
    std::atomic<std::uint64_t> floor_{0};  // (steady second << 32) | retries started in that second
    std::atomic<std::uint64_t> granted_{0};
    std::atomic<std::uint64_t> refused_{0};
};

enum class RetryVerdict : std::uint8_t {
    retry,
    not_retryable,   // the failure kind or status is not retried
    not_idempotent,  // the method is not idempotent
    body_not_replayable,
    attempts_exhausted,
    budget_exhausted,
};
const char* to_string(RetryVerdict v) noexcept;

struct RetryRequest {
    std::string_view method;
    bool body_replayable = true;  // false once the body streamed past the replay buffer
    unsigned retries_done = 0;    // retries already made for this request
    unsigned max_retries = 0;     // the route's (or upstream's) retries.attempts
};

struct RetryDecision {
    RetryVerdict verdict = RetryVerdict::not_retryable;
    RetryBudget::RetryToken token;  // held while the retry is in flight (verdict == retry)
};

// The rules above, in order. Takes from the budget only when every other rule allows the retry.
RetryDecision decide_retry(const RetryRequest& request, const AttemptFailure& failure,
                           RetryBudget& budget);

}  // namespace herald::proxy
