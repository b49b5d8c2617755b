#include "proxy/health.hpp"

#include <gtest/gtest.h>

#include "base/clock.hpp"

namespace herald::proxy {
namespace {

using namespace std::chrono_literals;

PassiveHealthSettings passive(std::uint32_t failures = 3) {
    PassiveHealthSettings s;
    s.consecutive_failures = failures;
    s.base_ejection_ms = 10'000;
    s.max_ejection_ms = 25'000;
    s.max_ejection_percent = 50;
    return s;
}

TEST(PassiveHealth, EjectsAfterConsecutiveFailuresAndASuccessResets) {
    ManualClock clock;
    PassiveHealthPool pool(passive(3), 2);
    EXPECT_EQ(pool.record_failure(0, clock.steady_now()), HealthEvent::none);
    EXPECT_EQ(pool.record_failure(0, clock.steady_now()), HealthEvent::none);
    pool.record_success(0, clock.steady_now());  // not consecutive any more
    EXPECT_EQ(pool.target(0).consecutive_failures(), 0u);
    EXPECT_EQ(pool.record_failure(0, clock.steady_now()), HealthEvent::none);
    EXPECT_EQ(pool.record_failure(0, clock.steady_now()), HealthEvent::none);
    EXPECT_FALSE(pool.ejected(0, clock.steady_now()));
    EXPECT_EQ(pool.record_failure(0, clock.steady_now()), HealthEvent::ejected);
    EXPECT_TRUE(pool.ejected(0, clock.steady_now()));
    EXPECT_FALSE(pool.ejected(1, clock.steady_now()));
}

TEST(PassiveHealth, CoolDownThenReadmitted) {
    ManualClock clock;
    PassiveHealthPool pool(passive(1), 2);
    EXPECT_EQ(pool.record_failure(0, clock.steady_now()), HealthEvent::ejected);
    clock.advance(9'999ms);
    EXPECT_TRUE(pool.ejected(0, clock.steady_now()));
    // Results of exchanges begun before the ejection change nothing while it lasts.
    pool.record_success(0, clock.steady_now());
    EXPECT_EQ(pool.record_failure(0, clock.steady_now()), HealthEvent::none);
    EXPECT_TRUE(pool.ejected(0, clock.steady_now()));
    clock.advance(1ms);
    EXPECT_FALSE(pool.ejected(0, clock.steady_now()));  // admitted again, with a clean count
    EXPECT_EQ(pool.target(0).consecutive_failures(), 0u);
    EXPECT_EQ(pool.target(0).ejections(), 1u);
}

TEST(PassiveHealth, RepeatedEjectionsGrowAndAreCapped) {
    ManualClock clock;
    PassiveHealthPool pool(passive(1), 2);
    auto until = [&] { return pool.target(0).ejected_until() - clock.steady_now(); };
    pool.record_failure(0, clock.steady_now());
    EXPECT_EQ(until(), 10s);
    clock.advance(10s);  // admitted, and fails again at once
    pool.record_failure(0, clock.steady_now());
    EXPECT_EQ(until(), 20s);
    clock.advance(20s);
    pool.record_failure(0, clock.steady_now());
    EXPECT_EQ(until(), 25s);  // 30 s capped at max_ejection
    EXPECT_EQ(pool.target(0).multiplier(), 3u);
    // A target that stays admitted is forgiven one step per base_ejection.
    clock.advance(25s + 20s);
    pool.record_failure(0, clock.steady_now());
    EXPECT_EQ(pool.target(0).multiplier(), 2u);  // 3 - 2 periods + 1
    EXPECT_EQ(until(), 20s);
    clock.advance(20s + 1h);
    pool.record_failure(0, clock.steady_now());
    EXPECT_EQ(until(), 10s);  // fully forgiven
}

TEST(PassiveHealth, NeverEjectsMoreThanMaxPercent) {
    ManualClock clock;
    PassiveHealthPool pool(passive(1), 4);  // 50% of 4: two at most
    EXPECT_EQ(pool.max_ejected(), 2u);
    EXPECT_EQ(pool.record_failure(0, clock.steady_now()), HealthEvent::ejected);
    EXPECT_EQ(pool.record_failure(1, clock.steady_now()), HealthEvent::ejected);
    EXPECT_EQ(pool.record_failure(2, clock.steady_now()), HealthEvent::ejection_prevented);
    EXPECT_FALSE(pool.ejected(2, clock.steady_now()));
    EXPECT_EQ(pool.ejected_count(clock.steady_now()), 2u);
    clock.advance(10s);  // the first two come back: room again
    EXPECT_EQ(pool.record_failure(2, clock.steady_now()), HealthEvent::ejected);

    // A single target may still be ejected (at least one, as in Envoy); 0% turns ejection off.
    PassiveHealthPool one(passive(1), 1);
    EXPECT_EQ(one.max_ejected(), 1u);
    EXPECT_EQ(one.record_failure(0, clock.steady_now()), HealthEvent::ejected);
    auto off = passive(1);
    off.max_ejection_percent = 0;
    PassiveHealthPool never(off, 3);
    EXPECT_EQ(never.record_failure(0, clock.steady_now()), HealthEvent::ejection_prevented);
    auto disabled = passive(0);  // consecutive_failures 0: passive health off
    PassiveHealthPool quiet(disabled, 3);
    for (int i = 0; i < 100; ++i)
        EXPECT_EQ(quiet.record_failure(0, clock.steady_now()), HealthEvent::none);
}

TEST(ActiveHealth, ThresholdsOfConsecutiveProbes) {
    ActiveHealthSettings s;
    s.enabled = true;
    s.healthy_threshold = 2;
    s.unhealthy_threshold = 3;
    s.expected_status_min = 200;
    s.expected_status_max = 299;
    ActiveHealth h(s);
    EXPECT_TRUE(h.healthy());  // targets start healthy
    EXPECT_EQ(h.record_probe(500u), HealthEvent::none);
    EXPECT_EQ(h.record_probe(std::nullopt), HealthEvent::none);  // timeout or connect error
    EXPECT_EQ(h.record_probe(200u), HealthEvent::none);          // a pass breaks the run
    EXPECT_EQ(h.record_probe(503u), HealthEvent::none);
    EXPECT_EQ(h.record_probe(301u), HealthEvent::none);  // outside 200-299
    EXPECT_EQ(h.record_probe(404u), HealthEvent::became_unhealthy);
    EXPECT_FALSE(h.healthy());
    EXPECT_EQ(h.record_probe(200u), HealthEvent::none);
    EXPECT_EQ(h.record_probe(500u), HealthEvent::none);  // breaks the run of passes
    EXPECT_EQ(h.record_probe(204u), HealthEvent::none);
    EXPECT_EQ(h.record_probe(299u), HealthEvent::became_healthy);
    EXPECT_TRUE(h.healthy());
}

TEST(ActiveHealth, ProbeSchedule) {
    ManualClock clock;
    ActiveHealthSettings s;
    s.interval_ms = 5'000;
    ActiveHealth h(s);
    EXPECT_TRUE(h.due(clock.steady_now()));  // the first probe is due at once
    h.probe_started(clock.steady_now());
    clock.advance(4'999ms);
    EXPECT_FALSE(h.due(clock.steady_now()));
    clock.advance(1ms);
    EXPECT_TRUE(h.due(clock.steady_now()));
}

TEST(Health, WhatCountsAsAFailure) {
    EXPECT_TRUE(counts_as_failure(std::nullopt));
    EXPECT_TRUE(counts_as_failure(500u));
    EXPECT_TRUE(counts_as_failure(502u));
    EXPECT_TRUE(counts_as_failure(503u));
    EXPECT_FALSE(counts_as_failure(501u));
    EXPECT_FALSE(counts_as_failure(404u));
    EXPECT_FALSE(counts_as_failure(200u));
}

}  // namespace
}  // namespace herald::proxy
