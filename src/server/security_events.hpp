#pragma once
// Security events as structured log lines (module "security", level warn): failed authentication, denied
// authorization, rate limiting. For an operator looking for credential stuffing, a misconfigured client or a
// leaked key being tried against topics it was never given.
//
// What a line holds: the reason (a stable code such as "expired" or "bad_signature"), the kind of credential that
// was presented (bearer, api_key, query, cookie, none — never the credential itself, nor a hash or prefix of it:
// a prefix of a short API key is a guessing aid), the principal's label when it is known (a subject or key name),
// the client address, the route, and for denials the action and topic.
//
// Bounded: at most `per_second` lines per event kind per second. The rest are counted (metrics count every event
// regardless) and the next line that gets through reports how many were left out ("suppressed"), so a client
// hammering with bad tokens can neither flood the log nor fill the disk.

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "base/clock.hpp"
#include "log/logger.hpp"

namespace herald::server {

class SecurityEventLog {
public:
    enum class Kind : std::uint8_t { authentication_failed, authorization_denied, rate_limited };

    SecurityEventLog(log::Logger* logger, const Clock& clock, std::uint32_t per_second = 20)
        : logger_(logger), clock_(clock), per_second_(per_second) {}

    void authentication_failed(std::string_view reason, unsigned status, std::string_view credential,
                               std::string_view address, std::string_view route) noexcept;
    void authorization_denied(std::string_view principal, std::string_view action, std::string_view target,
                              std::string_view address) noexcept;
    void rate_limited(std::string_view principal, std::string_view limit, std::string_view scope,
                      std::string_view address) noexcept;

    // Events not logged because their kind was over its budget, since the start.
    std::uint64_t suppressed_total() const noexcept { return suppressed_total_.load(std::memory_order_relaxed); }

private:
    struct Budget {
        std::atomic<std::int64_t> second{-1};
        std::atomic<std::uint32_t> used{0};
        std::atomic<std::uint64_t> suppressed{0};  // since the last line of this kind
    };
    // True when this event may be logged; `suppressed` is then the count left out before it.
    bool admit(Kind kind, std::uint64_t& suppressed) noexcept;

    log::Logger* logger_;
    const Clock& clock_;
    const std::uint32_t per_second_;
    std::array<Budget, 3> budgets_;
    std::atomic<std::uint64_t> suppressed_total_{0};
};

}  // namespace herald::server
