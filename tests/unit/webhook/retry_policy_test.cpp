#include "webhook/retry_policy.hpp"

#include <gtest/gtest.h>

#include <random>

namespace herald::webhook {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST(RetryPolicy, DefaultScheduleIsStandardWebhooks) {
    RetryPolicy p;
    const std::vector<milliseconds> expected{5s, 5min, 30min, 2h, 5h, 10h, 10h};
    EXPECT_EQ(p.schedule, expected);
    EXPECT_TRUE(p.jitter);
    EXPECT_EQ(p.disable_after, milliseconds(5 * 24h));
    EXPECT_EQ(p.max_retry_after, milliseconds(24h));
}

TEST(RetryPolicy, Classify) {
    auto status = [](int s) { return classify(AttemptResult{s, false, false, false}); };
    EXPECT_EQ(status(200), Outcome::success);
    EXPECT_EQ(status(201), Outcome::success);
    EXPECT_EQ(status(204), Outcome::success);
    EXPECT_EQ(status(299), Outcome::success);
    EXPECT_EQ(status(410), Outcome::gone);
    EXPECT_EQ(status(408), Outcome::retry);
    EXPECT_EQ(status(429), Outcome::retry);
    EXPECT_EQ(status(500), Outcome::retry);
    EXPECT_EQ(status(502), Outcome::retry);
    EXPECT_EQ(status(503), Outcome::retry);
    EXPECT_EQ(status(599), Outcome::retry);
    EXPECT_EQ(status(400), Outcome::dead_letter);
    EXPECT_EQ(status(401), Outcome::dead_letter);
    EXPECT_EQ(status(403), Outcome::dead_letter);
    EXPECT_EQ(status(404), Outcome::dead_letter);
    EXPECT_EQ(status(413), Outcome::dead_letter);
    EXPECT_EQ(status(301), Outcome::dead_letter);
    EXPECT_EQ(status(302), Outcome::dead_letter);
    EXPECT_EQ(status(307), Outcome::dead_letter);
    EXPECT_EQ(status(308), Outcome::dead_letter);
    EXPECT_EQ(status(101), Outcome::dead_letter);
    EXPECT_EQ(status(600), Outcome::dead_letter);

    EXPECT_EQ(classify({0, true, true, false}), Outcome::retry);    // timeout
    EXPECT_EQ(classify({0, true, false, false}), Outcome::retry);   // connection refused, DNS, TLS
    EXPECT_EQ(classify({0, false, false, false}), Outcome::retry);  // no status at all
    EXPECT_EQ(classify({0, true, false, true}), Outcome::dead_letter);  // SSRF refusal
    EXPECT_STREQ(to_string(Outcome::dead_letter), "dead_letter");
}

TEST(RetryPolicy, DelaysFollowTheScheduleWithoutJitter) {
    RetryPolicy p;
    p.jitter = false;
    std::mt19937_64 rng(1);
    EXPECT_EQ(next_delay(p, 0, std::nullopt, rng), milliseconds(0));
    EXPECT_EQ(next_delay(p, 1, std::nullopt, rng), milliseconds(5s));
    EXPECT_EQ(next_delay(p, 2, std::nullopt, rng), milliseconds(5min));
    EXPECT_EQ(next_delay(p, 3, std::nullopt, rng), milliseconds(30min));
    EXPECT_EQ(next_delay(p, 4, std::nullopt, rng), milliseconds(2h));
    EXPECT_EQ(next_delay(p, 5, std::nullopt, rng), milliseconds(5h));
    EXPECT_EQ(next_delay(p, 6, std::nullopt, rng), milliseconds(10h));
    EXPECT_EQ(next_delay(p, 7, std::nullopt, rng), milliseconds(10h));
    // Eight attempts in all: after the eighth failure the event is dead-lettered.
    EXPECT_EQ(next_delay(p, 8, std::nullopt, rng), std::nullopt);
    EXPECT_EQ(next_delay(p, 100, std::nullopt, rng), std::nullopt);
}

TEST(RetryPolicy, EmptyScheduleMeansNoRetry) {
    RetryPolicy p;
    p.schedule.clear();
    std::mt19937_64 rng(1);
    EXPECT_EQ(next_delay(p, 1, std::nullopt, rng), std::nullopt);
}

TEST(RetryPolicy, JitterStaysInTheUpperHalf) {
    RetryPolicy p;
    std::mt19937_64 rng(42);
    milliseconds lo = milliseconds::max(), hi = milliseconds::min();
    for (int i = 0; i < 2000; ++i) {
        auto d = next_delay(p, 2, std::nullopt, rng);
        ASSERT_TRUE(d);
        EXPECT_GE(*d, milliseconds(150s));
        EXPECT_LE(*d, milliseconds(5min));
        lo = std::min(lo, *d);
        hi = std::max(hi, *d);
    }
    // Spread over most of the interval, not clumped.
    EXPECT_LT(lo, milliseconds(160s));
    EXPECT_GT(hi, milliseconds(290s));
    // The deterministic core, at its edges.
    EXPECT_EQ(next_delay_at(p, 1, std::nullopt, 0.0), milliseconds(2500));
    EXPECT_EQ(next_delay_at(p, 1, std::nullopt, 1.0), milliseconds(5000));
    EXPECT_EQ(next_delay_at(p, 1, std::nullopt, 0.5), milliseconds(3750));
    // Same seed, same delays: tests and simulations can be replayed.
    std::mt19937_64 a(7), b(7);
    for (unsigned n = 1; n <= 7; ++n)
        EXPECT_EQ(next_delay(p, n, std::nullopt, a), next_delay(p, n, std::nullopt, b));
}

TEST(RetryPolicy, RetryAfterLengthensButNeverShortens) {
    RetryPolicy p;
    p.jitter = false;
    std::mt19937_64 rng(1);
    EXPECT_EQ(next_delay(p, 1, milliseconds(60s), rng), milliseconds(60s));
    EXPECT_EQ(next_delay(p, 1, milliseconds(1s), rng), milliseconds(5s));
    EXPECT_EQ(next_delay(p, 1, milliseconds(0), rng), milliseconds(5s));
    // Capped at a day.
    EXPECT_EQ(next_delay(p, 1, milliseconds(72h), rng), milliseconds(24h));
    // A cap below the scheduled step leaves the step alone.
    p.max_retry_after = 1s;
    EXPECT_EQ(next_delay(p, 2, milliseconds(1h), rng), milliseconds(5min));
    // An exhausted schedule stays exhausted whatever the receiver says.
    EXPECT_EQ(next_delay(p, 8, milliseconds(1s), rng), std::nullopt);
}

TEST(RetryPolicy, ParseRetryAfterDeltaSeconds) {
    const auto now = std::chrono::system_clock::now();
    EXPECT_EQ(parse_retry_after("120", now), milliseconds(120s));
    EXPECT_EQ(parse_retry_after(" 0 ", now), milliseconds(0));
    EXPECT_EQ(parse_retry_after("99999999999999999999999", now),
              milliseconds(std::chrono::seconds(1'000'000'000)));
    EXPECT_EQ(parse_retry_after("", now), std::nullopt);
    EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
    EXPECT_EQ(parse_retry_after("1.5", now), std::nullopt);
    EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
}

TEST(RetryPolicy, ParseRetryAfterHttpDate) {
    // Sun, 06 Nov 1994 08:49:37 GMT = 784111777.
    const auto epoch = std::chrono::system_clock::time_point(std::chrono::seconds(784111777));
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", epoch - 90s), milliseconds(90s));
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", epoch - 1500ms),
              milliseconds(1500));
    // In the past: retry per schedule.
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", epoch + 1h), milliseconds(0));
    // 2024 is a leap year.
    const auto leap =
        std::chrono::system_clock::time_point(std::chrono::seconds(1709164800));  // 2024-02-29
    EXPECT_EQ(parse_retry_after("Thu, 29 Feb 2024 00:01:00 GMT", leap), milliseconds(60s));
    EXPECT_EQ(parse_retry_after("Thu, 30 Feb 2024 00:01:00 GMT", leap), std::nullopt);
    EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", epoch), std::nullopt);  // RFC 850
    EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", epoch), std::nullopt);        // asctime
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 UTC", epoch), std::nullopt);
    EXPECT_EQ(parse_retry_after("Sun, 06 Xyz 1994 08:49:37 GMT", epoch), std::nullopt);
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 24:49:37 GMT", epoch), std::nullopt);
}

TEST(RetryPolicy, ParseSchedule) {
    auto s = parse_retry_schedule("5s, 250ms,5m,2h , 1d");
    ASSERT_TRUE(s) << s.error().message;
    const std::vector<milliseconds> expected{5s, 250ms, 5min, 2h, 24h};
    EXPECT_EQ(*s, expected);
    EXPECT_EQ(format_retry_schedule(*s), "5s,250ms,5m,2h,1d");
    EXPECT_EQ(format_retry_schedule(default_retry_schedule()), "5s,5m,30m,2h,5h,10h,10h");

    std::vector<std::string> entries{"1s", "1500"};
    auto l = parse_retry_schedule(entries);
    ASSERT_TRUE(l);
    EXPECT_EQ((*l)[1], milliseconds(1500));

    auto bad = parse_retry_schedule("5s,5x,1m");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("entry 2"), std::string::npos) << bad.error().message;
    EXPECT_FALSE(parse_retry_schedule(""));
    EXPECT_FALSE(parse_retry_schedule("5s,,5m"));
    EXPECT_FALSE(parse_retry_schedule("8d"));
    EXPECT_FALSE(parse_retry_schedule("999999999999999d"));
    EXPECT_FALSE(parse_retry_schedule("-5s"));
    std::vector<std::string> many(51, "1s");
    EXPECT_FALSE(parse_retry_schedule(many));
    EXPECT_EQ(parse_retry_delay("7d").value(), milliseconds(7 * 24h));
    EXPECT_EQ(parse_retry_delay("0s").value(), milliseconds(0));
}

}  // namespace
}  // namespace herald::webhook
