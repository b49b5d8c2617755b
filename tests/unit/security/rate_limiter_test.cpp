// Token buckets on a ManualClock: bursts, refill, retry-after, remaining, reset; the keyed
// limiter's memory bound and eviction; and the draft-07 header formats.

#include "security/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "base/clock.hpp"

namespace herald::security {
namespace {

using namespace std::chrono_literals;

class BucketTest : public ::testing::Test {
protected:
    ManualClock clock;
    std::chrono::steady_clock::time_point now() const { return clock.steady_now(); }
};

TEST_F(BucketTest, BurstThenRefusalWithRetryAfter) {
    TokenBucket b({.rate_per_second = 10, .burst = 5}, now());
    for (int i = 0; i < 5; ++i) {
        auto d = b.try_take(1, now());
        ASSERT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.remaining, static_cast<std::uint32_t>(4 - i));
        EXPECT_EQ(d.limit, 5u);
        EXPECT_EQ(d.retry_after, 0ms);
    }
    auto refused = b.try_take(1, now());
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0u);
    EXPECT_EQ(refused.retry_after, 100ms);  // one token at 10/s
    EXPECT_EQ(refused.reset, 500ms);        // five tokens to full
    clock.advance(99ms);
    EXPECT_FALSE(b.try_take(1, now()).allowed);
    clock.advance(1ms);
    EXPECT_TRUE(b.try_take(1, now()).allowed);
}

TEST_F(BucketTest, RefillIsCappedAtBurst) {
    TokenBucket b({.rate_per_second = 2, .burst = 3}, now());
    EXPECT_TRUE(b.try_take(3, now()).allowed);
    EXPECT_DOUBLE_EQ(b.tokens(now()), 0.0);
    clock.advance(1s);
    EXPECT_DOUBLE_EQ(b.tokens(now()), 2.0);
    clock.advance(1h);
    EXPECT_DOUBLE_EQ(b.tokens(now()), 3.0);
    EXPECT_TRUE(b.idle(now()));
    EXPECT_TRUE(b.try_take(3, now()).allowed);
    EXPECT_FALSE(b.try_take(1, now()).allowed);
}

TEST_F(BucketTest, SustainedRateOverTime) {
    TokenBucket b({.rate_per_second = 100, .burst = 10}, now());
    int allowed = 0;
    for (int ms = 0; ms < 10'000; ++ms) {  // one attempt per millisecond for 10 s
        if (b.try_take(1, now()).allowed) ++allowed;
        clock.advance(1ms);
    }
    EXPECT_GE(allowed, 1000);  // 100/s * 10 s, plus the initial burst
    EXPECT_LE(allowed, 1011);
}

TEST_F(BucketTest, MultiTokenRequests) {
    TokenBucket b({.rate_per_second = 1, .burst = 10}, now());
    EXPECT_TRUE(b.try_take(7, now()).allowed);
    auto d = b.try_take(5, now());
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.remaining, 3u);        // a refused request takes nothing
    EXPECT_EQ(d.retry_after, 2000ms);  // needs 2 more tokens at 1/s
    EXPECT_TRUE(b.try_take(3, now()).allowed);
}

TEST_F(BucketTest, MoreThanBurstIsNeverAllowed) {
    TokenBucket b({.rate_per_second = 1, .burst = 4}, now());
    auto d = b.try_take(5, now());
    EXPECT_FALSE(d.allowed);
    clock.advance(1h);
    EXPECT_FALSE(b.try_take(5, now()).allowed);
    EXPECT_EQ(b.tokens(now()), 4.0);
}

TEST_F(BucketTest, ZeroTokensOnlyReports) {
    TokenBucket b({.rate_per_second = 1, .burst = 2}, now());
    auto d = b.try_take(0, now());
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 2u);
}

TEST_F(BucketTest, FractionalRates) {
    TokenBucket b({.rate_per_second = 0.5, .burst = 1}, now());
    EXPECT_TRUE(b.try_take(1, now()).allowed);
    auto d = b.try_take(1, now());
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after, 2000ms);
    clock.advance(1999ms);
    EXPECT_FALSE(b.try_take(1, now()).allowed);
    clock.advance(1ms);
    EXPECT_TRUE(b.try_take(1, now()).allowed);
}

TEST_F(BucketTest, ClockGoingBackwardsMintsNothing) {
    TokenBucket b({.rate_per_second = 1, .burst = 1}, now());
    EXPECT_TRUE(b.try_take(1, now()).allowed);
    EXPECT_FALSE(b.try_take(1, now() - 10s).allowed);
    EXPECT_FALSE(b.try_take(1, now()).allowed);
}

TEST(RateLimitPolicy, Validation) {
    EXPECT_TRUE((RateLimitPolicy{.rate_per_second = 0.1, .burst = 1}).validate());
    auto zero_rate = RateLimitPolicy{.rate_per_second = 0, .burst = 1}.validate();
    ASSERT_FALSE(zero_rate);
    EXPECT_EQ(zero_rate.error().attribute, "rate");
    EXPECT_FALSE((RateLimitPolicy{.rate_per_second = -1, .burst = 1}).validate());
    EXPECT_FALSE(
        (RateLimitPolicy{.rate_per_second = std::numeric_limits<double>::infinity(), .burst = 1})
            .validate());
    auto zero_burst = RateLimitPolicy{.rate_per_second = 1, .burst = 0}.validate();
    ASSERT_FALSE(zero_burst);
    EXPECT_EQ(zero_burst.error().attribute, "burst");
}

TEST(RateLimitHeaders, Draft07Format) {
    const RateLimitPolicy p{.rate_per_second = 10, .burst = 20};
    EXPECT_EQ(format_ratelimit_policy(p), "20;w=2");
    EXPECT_EQ(format_ratelimit_policy({.rate_per_second = 100, .burst = 10}),
              "10;w=1");  // window at least 1 s
    EXPECT_EQ(format_ratelimit_policy({.rate_per_second = 0.5, .burst = 3}), "3;w=6");
    EXPECT_EQ(format_ratelimit_policy({.rate_per_second = 3, .burst = 10}),
              "10;w=4");  // 3.33 s rounded up

    ManualClock clock;
    TokenBucket b(p, clock.steady_now());
    auto d = b.try_take(15, clock.steady_now());
    EXPECT_EQ(format_ratelimit(d),
              "limit=20, remaining=5, reset=2");  // 15 tokens at 10/s: 1.5 s, rounded up
    d = b.try_take(6, clock.steady_now());
    ASSERT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after, 100ms);
    EXPECT_EQ(format_retry_after(d), "1");  // at least one second
    d = b.try_take(20, clock.steady_now());
    EXPECT_EQ(d.retry_after, 1500ms);
    EXPECT_EQ(format_retry_after(d), "2");
}

TEST(RateLimitHeaders, MostRestrictive) {
    RateDecision ok_many{.allowed = true, .limit = 10, .remaining = 9};
    RateDecision ok_few{.allowed = true, .limit = 10, .remaining = 1};
    RateDecision no_short{.allowed = false, .limit = 10, .remaining = 0, .retry_after = 100ms};
    RateDecision no_long{.allowed = false, .limit = 10, .remaining = 0, .retry_after = 900ms};
    EXPECT_EQ(&most_restrictive(ok_many, ok_few), &ok_few);
    EXPECT_EQ(&most_restrictive(ok_few, no_short), &no_short);
    EXPECT_EQ(&most_restrictive(no_short, ok_few), &no_short);
    EXPECT_EQ(&most_restrictive(no_short, no_long), &no_long);
}

class KeyedTest : public ::testing::Test {
protected:
    ManualClock clock;
    std::chrono::steady_clock::time_point now() const { return clock.steady_now(); }
};

TEST_F(KeyedTest, KeysAreIndependent) {
    KeyedRateLimiter limiter({.rate_per_second = 1, .burst = 2});
    EXPECT_TRUE(limiter.try_take("alice|/v1/topics", 1, now()).allowed);
    EXPECT_TRUE(limiter.try_take("alice|/v1/topics", 1, now()).allowed);
    EXPECT_FALSE(limiter.try_take("alice|/v1/topics", 1, now()).allowed);
    EXPECT_TRUE(limiter.try_take("bob|/v1/topics", 1, now()).allowed);
    EXPECT_TRUE(limiter.try_take("alice|topic:orders", 1, now()).allowed);
    EXPECT_EQ(limiter.size(), 3u);
    EXPECT_EQ(limiter.stats().allowed, 4u);
    EXPECT_EQ(limiter.stats().refused, 1u);
}

TEST_F(KeyedTest, MemoryIsBoundedUnderAKeyFlood) {
    KeyedRateLimiter limiter({.rate_per_second = 1, .burst = 5}, 1000);
    for (int i = 0; i < 50'000; ++i) {
        limiter.try_take("addr:10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), 1,
                         now());
        ASSERT_LE(limiter.size(), 1000u);
    }
    EXPECT_EQ(limiter.size(), 1000u);
    EXPECT_EQ(limiter.stats().evicted_active, 49'000u);
}

TEST_F(KeyedTest, IdleBucketsAreDroppedFirstAndLosslessly) {
    KeyedRateLimiter limiter({.rate_per_second = 10, .burst = 5}, 3);
    limiter.try_take("a", 5, now());  // a is empty
    limiter.try_take("b", 1, now());
    limiter.try_take("c", 1, now());
    clock.advance(200ms);             // b and c are full again (idle); a has 2 tokens
    limiter.try_take("a", 1, now());  // a becomes most recent
    limiter.try_take("d", 1, now());  // cold end holds idle b, c: dropped, nothing active lost
    EXPECT_EQ(limiter.stats().evicted_active, 0u);
    EXPECT_EQ(limiter.stats().evicted_idle, 2u);
    EXPECT_EQ(limiter.size(), 2u);
    // a kept its state: 1 token left, so two more takes: one allowed, one refused.
    EXPECT_TRUE(limiter.try_take("a", 1, now()).allowed);
    EXPECT_FALSE(limiter.try_take("a", 1, now()).allowed);
}

TEST_F(KeyedTest, LeastRecentlyUsedIsEvictedAtTheCap) {
    KeyedRateLimiter limiter({.rate_per_second = 0.001, .burst = 1}, 2);
    EXPECT_TRUE(limiter.try_take("a", 1, now()).allowed);
    EXPECT_TRUE(limiter.try_take("b", 1, now()).allowed);
    EXPECT_FALSE(limiter.try_take("a", 1, now()).allowed);  // touch a: b is now the LRU
    EXPECT_TRUE(limiter.try_take("c", 1, now()).allowed);   // evicts b
    EXPECT_FALSE(limiter.try_take("a", 1, now()).allowed);  // a remembered
    EXPECT_EQ(limiter.stats().evicted_active, 1u);
}

TEST_F(KeyedTest, Sweep) {
    KeyedRateLimiter limiter({.rate_per_second = 1, .burst = 1});
    for (int i = 0; i < 100; ++i) limiter.try_take("k" + std::to_string(i), 1, now());
    clock.advance(500ms);
    EXPECT_EQ(limiter.sweep(now()), 0u);
    clock.advance(500ms);
    EXPECT_EQ(limiter.sweep(now()), 100u);
    EXPECT_EQ(limiter.size(), 0u);
}

TEST(RateLimitKey, PrincipalOrAddressThenWhatIsLimited) {
    Principal anon;
    EXPECT_EQ(make_rate_limit_key(anon, "203.0.113.9", "route:/v1/topics"),
              "addr:203.0.113.9|route:/v1/topics");
    Principal user;
    user.kind = PrincipalKind::jwt;
    user.issuer = "https://idp";
    user.subject = "alice";
    EXPECT_EQ(make_rate_limit_key(user, "203.0.113.9", "topic:orders"),
              "jwt:https://idp|alice|topic:orders");
    Principal key;
    key.kind = PrincipalKind::api_key;
    key.subject = "alice";  // same subject, different kind: a different bucket
    EXPECT_NE(make_rate_limit_key(key, "", "topic:orders"),
              make_rate_limit_key(user, "", "topic:orders"));
}

}  // namespace
}  // namespace herald::security
