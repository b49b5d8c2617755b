#include "server/security_events.hpp"

#include <chrono>

namespace herald::server {

bool SecurityEventLog::admit(Kind kind, std::uint64_t& suppressed) noexcept {
    if (!logger_ || !logger_->enabled(log::Level::warn)) return false;
    auto& b = budgets_[static_cast<std::size_t>(kind)];
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.steady_now().time_since_epoch()).count();
    auto second = b.second.load(std::memory_order_relaxed);
    // A new second resets the budget. Racing threads may both reset it: the bound is approximate by a few lines,
    // which is fine for its purpose (keeping a flood out of the log), and no lock sits on the refusal path.
    if (second != now && b.second.compare_exchange_strong(second, now, std::memory_order_relaxed))
        b.used.store(0, std::memory_order_relaxed);
    if (b.used.fetch_add(1, std::memory_order_relaxed) >= per_second_) {
        b.suppressed.fetch_add(1, std::memory_order_relaxed);
        suppressed_total_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    suppressed = b.suppressed.exchange(0, std::memory_order_relaxed);
    return true;
}

void SecurityEventLog::authentication_failed(std::string_view reason, unsigned status, std::string_view credential,
                                             std::string_view address, std::string_view route) noexcept {
    std::uint64_t suppressed = 0;
    if (!admit(Kind::authentication_failed, suppressed)) return;
    logger_->warn("security", "authentication failed",
                  {{"event", "authentication_failed"},
                   {"reason", reason},
                   {"status", status},
                   {"credential", credential},
                   {"remote", address},
                   {"route", route},
                   {"suppressed", suppressed}});
}

void SecurityEventLog::authorization_denied(std::string_view principal, std::string_view action,
                                            std::string_view target, std::string_view address) noexcept {
    std::uint64_t suppressed = 0;
    if (!admit(Kind::authorization_denied, suppressed)) return;
    logger_->warn("security", "authorization denied",
                  {{"event", "authorization_denied"},
                   {"principal", principal},
                   {"action", action},
                   {"target", target},
                   {"remote", address},
                   {"suppressed", suppressed}});
}

void SecurityEventLog::rate_limited(std::string_view principal, std::string_view limit, std::string_view scope,
                                    std::string_view address) noexcept {
    std::uint64_t suppressed = 0;
    if (!admit(Kind::rate_limited, suppressed)) return;
    logger_->warn("security", "rate limited",
                  {{"event", "rate_limited"},
                   {"principal", principal},
                   {"limit", limit},
                   {"scope", scope},
                   {"remote", address},
                   {"suppressed", suppressed}});
}

}  // namespace herald::server
