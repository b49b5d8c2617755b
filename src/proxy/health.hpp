#pragma once
// Health of upstream targets, as pure state machines driven by results and an injected time (no
// threads, no clock calls of their own; proxy::Upstream serializes them and mirrors the verdicts
// into atomics for readers).
//
// Passive health (outlier detection, like Envoy's consecutive_5xx):
//   - a target whose exchanges fail `consecutive_failures` times in a row is ejected; a success
//     resets the count;
//   - an ejection lasts base_ejection × m, capped at max_ejection, where m counts recent ejections:
//     it grows by one per ejection and shrinks by one per base_ejection spent admitted, so a
//     flapping target stays out longer and a target that recovered is forgiven;
//   - when the ejection ends the target is admitted again with a clean count (no half-open probing:
//     the next `consecutive_failures` failures eject it again, for longer);
//   - results of exchanges that were in flight when the target was ejected are ignored;
//   - a pool never has more than max_ejection_percent of its targets ejected at once (rounded down,
//     but at least one may always be ejected, as in Envoy): past that, failing targets stay in
//     rotation, because sending traffic to a degraded pool beats refusing all of it on the strength
//     of a few errors.
//
// Active health: an HTTP GET of a path on each target every interval. A healthy target becomes
// unhealthy after `unhealthy_threshold` failed probes in a row, an unhealthy one healthy after
// `healthy_threshold` passes in a row. A probe passes when the answer's status is within the
// expected range before the timeout. Targets start healthy, so a restart does not refuse traffic
// until the first probes complete.
//
// A target takes traffic when it is admitted by passive health and healthy by active health.
//
// Threading: none of these classes is thread-safe; see proxy/upstream.hpp for how they are shared.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "config/proxy_settings.hpp"

namespace herald::proxy {

using PassiveHealthSettings = config::PassiveHealthSettings;
using ActiveHealthSettings = config::ActiveHealthSettings;
using TimePoint = std::chrono::steady_clock::time_point;

// One target's passive health.
class PassiveHealth {
public:
    explicit PassiveHealth(const PassiveHealthSettings& settings) : settings_(&settings) {}

    // True when this failure reaches the threshold: the caller (the pool) decides whether to eject.
    bool record_failure(TimePoint now) noexcept;
    void record_success(TimePoint now) noexcept;
    // Starts an ejection now; returns when it ends.
    TimePoint eject(TimePoint now) noexcept;

    bool ejected(TimePoint now) const noexcept { return now < ejected_until_; }
    TimePoint ejected_until() const noexcept { return ejected_until_; }
    std::uint32_t consecutive_failures() const noexcept { return failures_; }
    std::uint32_t multiplier() const noexcept { return multiplier_; }
    std::uint64_t ejections() const noexcept { return ejections_; }

private:
    const PassiveHealthSettings* settings_;
    std::uint32_t failures_ = 0;
    std::uint32_t multiplier_ = 0;
    std::uint64_t ejections_ = 0;
    TimePoint ejected_until_{};  // in the past: admitted
};

// What a recorded result did.
enum class HealthEvent : std::uint8_t {
    none,
    ejected,             // passive: the target is out until its cool-down ends
    // passive: it reached the threshold, but the pool is at max_ejection_percent
    ejection_prevented,
    became_unhealthy,    // active
    became_healthy,      // active
};
const char* to_string(HealthEvent e) noexcept;

// Passive health of a whole pool: one PassiveHealth per target and the max_ejection_percent cap.
class PassiveHealthPool {
public:
    PassiveHealthPool(PassiveHealthSettings settings, std::size_t targets);
    // Pinned: each target's state machine points at settings_.
    PassiveHealthPool(const PassiveHealthPool&) = delete;
    PassiveHealthPool& operator=(const PassiveHealthPool&) = delete;

    HealthEvent record_failure(std::size_t target, TimePoint now);
    void record_success(std::size_t target, TimePoint now);
    bool ejected(std::size_t target, TimePoint now) const noexcept {
        return targets_[target].ejected(now);
    }
    std::size_t ejected_count(TimePoint now) const noexcept;
    // How many targets may be ejected at once.
    std::size_t max_ejected() const noexcept;
    const PassiveHealth& target(std::size_t i) const noexcept { return targets_[i]; }
    const PassiveHealthSettings& settings() const noexcept { return settings_; }

private:
    PassiveHealthSettings settings_;  // before targets_: they point at it
    std::vector<PassiveHealth> targets_;
};

// One target's active health.
class ActiveHealth {
public:
    explicit ActiveHealth(const ActiveHealthSettings& settings) : settings_(&settings) {}

    // A probe's result: the status received, or nullopt when none came (connect error, timeout, bad
    // answer).
    HealthEvent record_probe(std::optional<unsigned> status) noexcept;
    bool healthy() const noexcept { return healthy_; }
    std::uint32_t consecutive_passes() const noexcept { return passes_; }
    std::uint32_t consecutive_failures() const noexcept { return failures_; }

    // Scheduling: a probe is due at start and then every interval after the previous one began.
    bool due(TimePoint now) const noexcept { return !next_ || now >= *next_; }
    void probe_started(TimePoint now) noexcept {
        next_ = now + std::chrono::milliseconds(settings_->interval_ms);
    }
    std::optional<TimePoint> next_probe() const noexcept { return next_; }

private:
    const ActiveHealthSettings* settings_;
    bool healthy_ = true;
    std::uint32_t passes_ = 0;
    std::uint32_t failures_ = 0;
    std::optional<TimePoint> next_;
};

// True when a probe's status is in the expected range.
bool probe_passed(const ActiveHealthSettings& settings, std::optional<unsigned> status) noexcept;

// Whether an exchange's outcome counts against a target's passive health: no answer at all (connect
// error, timeout, reset) or a 5xx other than 501 (a method the upstream does not implement says
// nothing about its health). 4xx are the client's problem.
bool counts_as_failure(std::optional<unsigned> status) noexcept;

}  // namespace herald::proxy
