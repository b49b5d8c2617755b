#include "proxy/upstream.hpp"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "proxy/errors.hpp"

namespace herald::proxy {
namespace {

using namespace std::chrono_literals;

UpstreamSpec pool(std::size_t n, config::BalancerKind kind = config::BalancerKind::round_robin) {
    UpstreamSpec s;
    s.name = "users";
    for (std::size_t i = 0; i < n; ++i)
        s.targets.push_back({"10.0.0." + std::to_string(i + 1), 8080, 1});
    s.balancer = kind;
    s.passive_health.consecutive_failures = 2;
    s.passive_health.base_ejection_ms = 30'000;
    s.passive_health.max_ejection_ms = 300'000;
    s.passive_health.max_ejection_percent = 50;
    return s;
}

std::unique_ptr<Upstream> make(UpstreamSpec s, const Clock& clock) {
    auto u = Upstream::create(std::move(s), clock, 1);
    EXPECT_TRUE(u) << (u ? "" : u.error().message);
    return u ? std::move(*u) : nullptr;
}

TEST(Upstream, LeasesCountRequestsInFlight) {
    ManualClock clock;
    auto u = make(pool(2, config::BalancerKind::least_request), clock);
    auto a = u->pick({});
    ASSERT_TRUE(a);
    auto b = u->pick({});
    ASSERT_TRUE(b);
    EXPECT_NE(a->index(), b->index());  // least-request spreads the two
    EXPECT_EQ(u->snapshot(a->index()).in_flight, 1u);
    {
        auto moved = std::move(*a);
        EXPECT_EQ(u->snapshot(moved.index()).in_flight, 1u);
    }
    EXPECT_EQ(u->snapshot(0).in_flight + u->snapshot(1).in_flight, 1u);
    EXPECT_EQ(u->target(0).authority, "10.0.0.1:8080");
}

TEST(Upstream, PassiveEjectionSteersTrafficAwayAndBack) {
    ManualClock clock;
    auto u = make(pool(2), clock);
    EXPECT_EQ(u->record_result(0, std::nullopt), HealthEvent::none);
    EXPECT_EQ(u->record_result(0, 503u), HealthEvent::ejected);
    EXPECT_FALSE(u->available(0));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(u->pick({})->index(), 1u);
    // The other target is protected by max_ejection_percent (50% of 2 = 1).
    u->record_result(1, 500u);
    EXPECT_EQ(u->record_result(1, 500u), HealthEvent::ejection_prevented);
    EXPECT_TRUE(u->available(1));
    u->record_result(1, 200u);  // a success resets its count
    EXPECT_EQ(u->snapshot(1).consecutive_failures, 0u);
    clock.advance(30s);
    EXPECT_TRUE(u->available(0));  // cool-down over: admitted again
    std::map<std::size_t, int> picks;
    for (int i = 0; i < 10; ++i) ++picks[u->pick({})->index()];
    EXPECT_EQ(picks[0], 5);
    EXPECT_EQ(u->stats().ejections.load(), 1u);
    EXPECT_EQ(u->stats().ejections_prevented.load(), 1u);
}

TEST(Upstream, LeaseReportFeedsPassiveHealth) {
    ManualClock clock;
    auto u = make(pool(3), clock);
    for (int i = 0; i < 2; ++i) {
        const std::size_t none[] = {1, 2};
        auto lease = u->pick({}, none);
        ASSERT_TRUE(lease);
        EXPECT_EQ(lease->index(), 0u);
        lease->report(std::nullopt);
    }
    EXPECT_TRUE(u->snapshot(0).ejected);
}

TEST(Upstream, NoTargetReasons) {
    ManualClock clock;
    auto u = make(pool(2), clock);
    const std::size_t both[] = {0, 1};
    auto tried = u->pick({}, both);
    ASSERT_FALSE(tried);
    EXPECT_EQ(tried.error(), PickFailure::all_tried);

    auto spec = pool(2);
    spec.health_check.enabled = true;
    spec.health_check.unhealthy_threshold = 1;
    auto v = make(spec, clock);
    EXPECT_EQ(v->record_probe(0, std::nullopt), HealthEvent::became_unhealthy);
    EXPECT_EQ(v->record_probe(1, 500u), HealthEvent::became_unhealthy);
    auto none = v->pick({});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error(), PickFailure::no_available_target);
    EXPECT_EQ(v->record_probe(1, 200u), HealthEvent::none);  // healthy_threshold 2
    EXPECT_EQ(v->record_probe(1, 200u), HealthEvent::became_healthy);
    EXPECT_EQ(v->pick({})->index(), 1u);

    auto r = error_response(ProxyError::no_available_target,
                            "upstream users: every target is ejected or unhealthy");
    EXPECT_EQ(r.status, 503u);
    EXPECT_NE(r.body.find("urn:herald:problem:upstream-unavailable"), std::string::npos);
    EXPECT_NE(r.body.find("every target is ejected"), std::string::npos);
    EXPECT_EQ(error_response(ProxyError::timeout, "x").status, 504u);
    EXPECT_EQ(error_response(ProxyError::connect_failed, "x").status, 502u);
}

TEST(Upstream, ProbesAndHostHeaders) {
    ManualClock clock;
    auto spec = pool(1);
    spec.targets = {{"2001:db8::1", 443, 1}, {"api.internal", 8443, 1}};
    spec.tls = true;
    spec.health_check.enabled = true;
    spec.health_check.path = "/healthz";
    spec.health_check.interval_ms = 10'000;
    auto u = make(spec, clock);
    EXPECT_EQ(u->host_header(0), "[2001:db8::1]");  // default port left out
    EXPECT_EQ(u->host_header(1), "api.internal:8443");
    EXPECT_EQ(u->target(0).authority, "[2001:db8::1]:443");
    EXPECT_TRUE(u->probe_due(1));
    u->probe_started(1);
    EXPECT_FALSE(u->probe_due(1));
    clock.advance(10s);
    EXPECT_TRUE(u->probe_due(1));
    auto p = u->probe_request(1);
    EXPECT_EQ(p.target, "/healthz");
    EXPECT_EQ(p.host, "api.internal:8443");
}

TEST(Upstream, CreateValidates) {
    ManualClock clock;
    auto empty = pool(0);
    auto r = Upstream::create(empty, clock, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().attribute, "upstreams.users.targets");
    auto hash = pool(2, config::BalancerKind::consistent_hash);
    r = Upstream::create(hash, clock, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().attribute, "upstreams.users.hash_on");
    hash.hash_on = {config::HashSource::header, "X-User"};
    EXPECT_TRUE(Upstream::create(hash, clock, 1));
    auto twice = pool(2);
    twice.targets[1] = twice.targets[0];
    EXPECT_FALSE(Upstream::create(twice, clock, 1));
}

TEST(Upstream, CallSettingsRouteOverridesUpstream) {
    UpstreamSpec u = pool(1);
    u.connect_timeout_ms = 1000;
    u.read_timeout_ms = 2000;
    u.total_timeout_ms = 3000;
    u.retries = {3, 500};
    config::RouteSettings r;
    EXPECT_EQ(call_settings(u, r).read_timeout_ms, 2000);
    EXPECT_EQ(call_settings(u, r).retries, 3u);
    r.timeouts.read_ms = 9000;
    r.retries = config::RetrySettings{0, 0};
    auto c = call_settings(u, r);
    EXPECT_EQ(c.connect_timeout_ms, 1000);
    EXPECT_EQ(c.read_timeout_ms, 9000);
    EXPECT_EQ(c.total_timeout_ms, 3000);
    EXPECT_EQ(c.retries, 0u);
}

TEST(Upstream, SharedByThreads) {
    ManualClock clock;
    auto u = make(pool(4, config::BalancerKind::least_request), clock);
    std::vector<std::thread> threads;
    std::atomic<int> picked{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                auto lease = u->pick({});
                if (!lease) continue;
                picked.fetch_add(1);
                lease->report(i % 50 == 0 ? std::optional<unsigned>(502u)
                                          : std::optional<unsigned>(200u));
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(picked.load(), 8000);  // never more than half ejected, so always a target
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(u->snapshot(i).in_flight, 0u);
}

}  // namespace
}  // namespace herald::proxy
