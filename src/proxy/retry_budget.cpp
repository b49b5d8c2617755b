#include "proxy/retry_budget.hpp"

#include <chrono>

namespace herald::proxy {

bool is_idempotent(std::string_view m) noexcept {
    return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "PUT" || m == "DELETE" ||
           m == "TRACE";
}

bool is_retryable(const AttemptFailure& f) noexcept {
    switch (f.kind) {
        case AttemptFailure::Kind::connect:
            return true;
        case AttemptFailure::Kind::status:
            return f.status == 502 || f.status == 503 || f.status == 504;
        case AttemptFailure::Kind::transport:
            return false;
    }
    return false;
}

const char* to_string(RetryVerdict v) noexcept {
    switch (v) {
        case RetryVerdict::retry:
            return "retry";
        case RetryVerdict::not_retryable:
            return "not_retryable";
        case RetryVerdict::not_idempotent:
            return "not_idempotent";
        case RetryVerdict::body_not_replayable:
            return "body_not_replayable";
        case RetryVerdict::attempts_exhausted:
            return "attempts_exhausted";
        case RetryVerdict::budget_exhausted:
            return "budget_exhausted";
    }
    return "?";
}

RetryBudget::RequestToken& RetryBudget::RequestToken::operator=(RequestToken&& o) noexcept {
    if (this != &o) {
        release();
        b_ = o.b_;
        o.b_ = nullptr;
    }
    return *this;
}

void RetryBudget::RequestToken::release() noexcept {
    if (b_) b_->requests_.fetch_sub(1, std::memory_order_relaxed);
    b_ = nullptr;
}

RetryBudget::RetryToken& RetryBudget::RetryToken::operator=(RetryToken&& o) noexcept {
    if (this != &o) {
        release();
        b_ = o.b_;
        o.b_ = nullptr;
    }
    return *this;
}

void RetryBudget::RetryToken::release() noexcept {
    if (b_) b_->retries_.fetch_sub(1, std::memory_order_relaxed);
    b_ = nullptr;
}

RetryBudget::RequestToken RetryBudget::begin_request() noexcept {
    requests_.fetch_add(1, std::memory_order_relaxed);
    return RequestToken(this);
}

bool RetryBudget::take_ratio() noexcept {
    const double limit =
        settings_.ratio * static_cast<double>(requests_.load(std::memory_order_relaxed));
    auto r = retries_.load(std::memory_order_relaxed);
    while (static_cast<double>(r + 1) <= limit) {
        if (retries_.compare_exchange_weak(r, r + 1, std::memory_order_relaxed)) return true;
    }
    return false;
}

bool RetryBudget::take_floor() noexcept {
    if (settings_.min_retries_per_second == 0) return false;
    const auto second = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.steady_now().time_since_epoch())
            .count());
    const std::uint64_t tag = (second & 0xffff'ffffu) << 32;
    auto cur = floor_.load(std::memory_order_relaxed);
    while (true) {
        std::uint64_t next;
        if ((cur & 0xffff'ffff'0000'0000u) != tag)
            next = tag | 1;  // a new second: the floor starts over
        else if ((cur & 0xffff'ffffu) < settings_.min_retries_per_second)
            next = cur + 1;
        else
            return false;
        if (floor_.compare_exchange_weak(cur, next, std::memory_order_relaxed)) break;
    }
    retries_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

std::optional<RetryBudget::RetryToken> RetryBudget::try_begin_retry() noexcept {
    if (take_ratio() || take_floor()) {
        granted_.fetch_add(1, std::memory_order_relaxed);
        return RetryToken(this);
    }
    refused_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
}

RetryDecision decide_retry(const RetryRequest& req, const AttemptFailure& failure,
                           RetryBudget& budget) {
    RetryDecision d;
    if (!is_retryable(failure))
        d.verdict = RetryVerdict::not_retryable;
    else if (!is_idempotent(req.method))
        d.verdict = RetryVerdict::not_idempotent;
    else if (!req.body_replayable)
        d.verdict = RetryVerdict::body_not_replayable;
    else if (req.retries_done >= req.max_retries)
        d.verdict = RetryVerdict::attempts_exhausted;
    else if (auto token = budget.try_begin_retry()) {
        d.verdict = RetryVerdict::retry;
        d.token = std::move(*token);
    } else {
        d.verdict = RetryVerdict::budget_exhausted;
    }
    return d;
}

}  // namespace herald::proxy
