#include "proxy/retry_budget.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace herald::proxy {
namespace {

using namespace std::chrono_literals;
using Kind = AttemptFailure::Kind;

TEST(Retry, IdempotentMethods) {
    for (auto m : {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
        EXPECT_TRUE(is_idempotent(m)) << m;
    for (auto m : {"POST", "PATCH", "CONNECT", "get"}) EXPECT_FALSE(is_idempotent(m)) << m;
}

TEST(Retry, RetryableFailures) {
    EXPECT_TRUE(is_retryable({Kind::connect, 0}));
    EXPECT_TRUE(is_retryable({Kind::status, 502}));
    EXPECT_TRUE(is_retryable({Kind::status, 503}));
    EXPECT_TRUE(is_retryable({Kind::status, 504}));
    EXPECT_FALSE(is_retryable({Kind::status, 500}));
    EXPECT_FALSE(is_retryable({Kind::status, 429}));
    EXPECT_FALSE(is_retryable({Kind::transport, 0}));  // the request may have been applied
}

TEST(Retry, DecisionRulesInOrder) {
    ManualClock clock;
    RetryBudget budget({0.2, 10}, clock);
    auto request = budget.begin_request();
    const AttemptFailure bad_gateway{Kind::status, 502};
    EXPECT_EQ(decide_retry({"GET", true, 0, 2}, {Kind::status, 500}, budget).verdict,
              RetryVerdict::not_retryable);
    EXPECT_EQ(decide_retry({"POST", true, 0, 2}, bad_gateway, budget).verdict,
              RetryVerdict::not_idempotent);
    EXPECT_EQ(decide_retry({"PUT", false, 0, 2}, bad_gateway, budget).verdict,
              RetryVerdict::body_not_replayable);
    EXPECT_EQ(decide_retry({"GET", true, 2, 2}, bad_gateway, budget).verdict,
              RetryVerdict::attempts_exhausted);
    EXPECT_EQ(budget.retries_granted(), 0u);  // none of those touched the budget
    auto d = decide_retry({"GET", true, 1, 2}, {Kind::connect, 0}, budget);
    EXPECT_EQ(d.verdict, RetryVerdict::retry);
    EXPECT_TRUE(d.token);
    EXPECT_EQ(budget.active_retries(), 1u);
    d.token.release();
    EXPECT_EQ(budget.active_retries(), 0u);
}

TEST(RetryBudget, FloorPerSecondWhenQuiet) {
    ManualClock clock;
    RetryBudget budget({0.2, 3}, clock);
    auto request =
        budget.begin_request();  // one request in flight: the ratio allows 0.2 retries, i.e. none
    std::vector<RetryBudget::RetryToken> held;
    for (int i = 0; i < 3; ++i) {
        auto t = budget.try_begin_retry();
        ASSERT_TRUE(t) << i;
        held.push_back(std::move(*t));
    }
    EXPECT_FALSE(budget.try_begin_retry());  // the floor is spent for this second
    held.clear();
    EXPECT_FALSE(budget.try_begin_retry());  // finished retries do not refund the floor
    clock.advance(1s);
    EXPECT_TRUE(budget.try_begin_retry());  // a new second
    EXPECT_EQ(budget.retries_refused(), 2u);
}

TEST(RetryBudget, RatioOfActiveRequests) {
    ManualClock clock;
    RetryBudget budget({0.2, 0}, clock);  // no floor: the ratio alone
    std::vector<RetryBudget::RequestToken> requests;
    for (int i = 0; i < 10; ++i) requests.push_back(budget.begin_request());
    EXPECT_EQ(budget.active_requests(), 10u);
    auto a = budget.try_begin_retry();
    auto b = budget.try_begin_retry();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(budget.try_begin_retry());  // 2 of 10 in flight: the 20% budget is used
    a.reset();                               // a retry finishes: room for one more
    EXPECT_TRUE(budget.try_begin_retry());
    requests.resize(4);  // fewer requests in flight: the budget shrinks with them
    EXPECT_FALSE(budget.try_begin_retry());
    requests.clear();
    EXPECT_EQ(budget.active_requests(), 0u);
}

TEST(RetryBudget, ConcurrentCallersNeverOvershoot) {
    ManualClock clock;
    RetryBudget budget({0.5, 0}, clock);
    std::vector<RetryBudget::RequestToken> requests;
    for (int i = 0; i < 100; ++i)
        requests.push_back(budget.begin_request());  // 50 retries allowed at once
    std::atomic<int> granted{0};
    std::vector<std::thread> threads;
    std::vector<std::vector<RetryBudget::RetryToken>> kept(4);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i)
                if (auto token = budget.try_begin_retry()) {
                    kept[t].push_back(std::move(*token));
                    granted.fetch_add(1);
                }
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(granted.load(), 50);
    EXPECT_EQ(budget.active_retries(), 50u);
    kept.clear();
    EXPECT_EQ(budget.active_retries(), 0u);
}

}  // namespace
}  // namespace herald::proxy
