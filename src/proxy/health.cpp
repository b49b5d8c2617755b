#include "proxy/health.hpp"

#include <algorithm>

namespace herald::proxy {

using std::chrono::milliseconds;

const char* to_string(HealthEvent e) noexcept {
    switch (e) {
        case HealthEvent::none:
            return "none";
        case HealthEvent::ejected:
            return "ejected";
        case HealthEvent::ejection_prevented:
            return "ejection_prevented";
        case HealthEvent::became_unhealthy:
            return "became_unhealthy";
        case HealthEvent::became_healthy:
            return "became_healthy";
    }
    return "?";
}

bool PassiveHealth::record_failure(TimePoint now) noexcept {
    if (ejected(now)) return false;  // an exchange begun before the ejection: says nothing new
    if (settings_->consecutive_failures == 0) return false;
    ++failures_;
    return failures_ >= settings_->consecutive_failures;
}

void PassiveHealth::record_success(TimePoint now) noexcept {
    if (ejected(now)) return;  // a straggler does not end the ejection early
    failures_ = 0;
}

TimePoint PassiveHealth::eject(TimePoint now) noexcept {
    const auto base = milliseconds(settings_->base_ejection_ms);
    // Forgive one step of the multiplier per base period spent admitted since the last ejection
    // ended.
    if (multiplier_ > 0 && base.count() > 0 && now > ejected_until_) {
        const auto admitted = std::chrono::duration_cast<milliseconds>(now - ejected_until_);
        const auto periods = static_cast<std::uint64_t>(admitted / base);
        multiplier_ =
            periods >= multiplier_ ? 0 : multiplier_ - static_cast<std::uint32_t>(periods);
    }
    ++multiplier_;
    ++ejections_;
    const auto max = milliseconds(settings_->max_ejection_ms);
    // base × multiplier, capped; computed in a wide type so a long-lived multiplier cannot
    // overflow.
    const auto wanted = static_cast<long double>(base.count()) * multiplier_;
    const auto length = wanted >= static_cast<long double>(max.count())
                            ? max
                            : milliseconds(static_cast<std::int64_t>(wanted));
    failures_ = 0;
    ejected_until_ = now + length;
    return ejected_until_;
}

PassiveHealthPool::PassiveHealthPool(PassiveHealthSettings settings, std::size_t targets)
    : settings_(settings), targets_(targets, PassiveHealth(settings_)) {}

std::size_t PassiveHealthPool::ejected_count(TimePoint now) const noexcept {
    return static_cast<std::size_t>(
        std::count_if(targets_.begin(), targets_.end(),
                      [now](const PassiveHealth& t) { return t.ejected(now); }));
}

std::size_t PassiveHealthPool::max_ejected() const noexcept {
    if (settings_.max_ejection_percent == 0) return 0;
    return std::max<std::size_t>(1, targets_.size() * settings_.max_ejection_percent / 100);
}

HealthEvent PassiveHealthPool::record_failure(std::size_t target, TimePoint now) {
    auto& t = targets_[target];
    if (!t.record_failure(now)) return HealthEvent::none;
    if (ejected_count(now) >= max_ejected()) return HealthEvent::ejection_prevented;
    t.eject(now);
    return HealthEvent::ejected;
}

void PassiveHealthPool::record_success(std::size_t target, TimePoint now) {
    targets_[target].record_success(now);
}

bool probe_passed(const ActiveHealthSettings& s, std::optional<unsigned> status) noexcept {
    return status && *status >= s.expected_status_min && *status <= s.expected_status_max;
}

HealthEvent ActiveHealth::record_probe(std::optional<unsigned> status) noexcept {
    if (probe_passed(*settings_, status)) {
        failures_ = 0;
        ++passes_;
        if (!healthy_ && passes_ >= settings_->healthy_threshold) {
            healthy_ = true;
            return HealthEvent::became_healthy;
        }
        return HealthEvent::none;
    }
    passes_ = 0;
    ++failures_;
    if (healthy_ && failures_ >= settings_->unhealthy_threshold) {
        healthy_ = false;
        return HealthEvent::became_unhealthy;
    }
    return HealthEvent::none;
}

bool counts_as_failure(std::optional<unsigned> status) noexcept {
    return !status || (*status >= 500 && *status != 501);
}

}  // namespace herald::proxy
