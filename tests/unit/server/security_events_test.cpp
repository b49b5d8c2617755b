#include "server/security_events.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "log/sink.hpp"

namespace herald::server {
namespace {

struct Fixture {
    Fixture() {
        auto s = std::make_unique<log::MemorySink>();
        sink = s.get();
        logger = std::make_unique<log::Logger>(std::move(s));
    }
    boost::json::object line(std::size_t i) const { return boost::json::parse(sink->lines().at(i)).as_object(); }

    log::MemorySink* sink = nullptr;
    std::unique_ptr<log::Logger> logger;
    ManualClock clock;
};

TEST(SecurityEventLog, AFailedAuthenticationSaysWhyAndWhatKindOfCredentialNeverTheCredential) {
    Fixture f;
    SecurityEventLog events(f.logger.get(), f.clock);
    events.authentication_failed("expired", 401, "authorization", "10.1.2.3", "/v1/topics/orders/events");
    ASSERT_EQ(f.sink->lines().size(), 1u);
    auto l = f.line(0);
    EXPECT_EQ(l["level"], "warn");
    EXPECT_EQ(l["module"], "security");
    EXPECT_EQ(l["event"], "authentication_failed");
    EXPECT_EQ(l["reason"], "expired");
    EXPECT_EQ(l["status"], 401);
    EXPECT_EQ(l["credential"], "authorization");
    EXPECT_EQ(l["remote"], "10.1.2.3");
    EXPECT_EQ(l["route"], "/v1/topics/orders/events");
    EXPECT_EQ(l["suppressed"], 0);
}

TEST(SecurityEventLog, DenialsAndLimitsNameThePrincipalAndWhat) {
    Fixture f;
    SecurityEventLog events(f.logger.get(), f.clock);
    events.authorization_denied("key:billing", "publish", "orders", "127.0.0.1");
    events.rate_limited("key:billing", "publish", "orders", "127.0.0.1");
    ASSERT_EQ(f.sink->lines().size(), 2u);
    EXPECT_EQ(f.line(0)["event"], "authorization_denied");
    EXPECT_EQ(f.line(0)["principal"], "key:billing");
    EXPECT_EQ(f.line(0)["action"], "publish");
    EXPECT_EQ(f.line(0)["target"], "orders");
    EXPECT_EQ(f.line(1)["event"], "rate_limited");
    EXPECT_EQ(f.line(1)["limit"], "publish");
    EXPECT_EQ(f.line(1)["scope"], "orders");
}

TEST(SecurityEventLog, AFloodIsCutToTheBudgetAndTheNextLineCountsWhatWasLeftOut) {
    Fixture f;
    SecurityEventLog events(f.logger.get(), f.clock, 5);
    for (int i = 0; i < 100; ++i) events.authentication_failed("bad_signature", 401, "api_key", "10.0.0.9", "/v1/ws");
    EXPECT_EQ(f.sink->lines().size(), 5u);
    EXPECT_EQ(events.suppressed_total(), 95u);
    // Another kind has its own budget.
    events.rate_limited("anonymous", "requests", "", "10.0.0.9");
    EXPECT_EQ(f.sink->lines().size(), 6u);
    // The next second: lines again, the first one reporting the 95.
    f.clock.advance(std::chrono::seconds(1));
    events.authentication_failed("bad_signature", 401, "api_key", "10.0.0.9", "/v1/ws");
    ASSERT_EQ(f.sink->lines().size(), 7u);
    EXPECT_EQ(f.line(6)["suppressed"], 95);
    events.authentication_failed("bad_signature", 401, "api_key", "10.0.0.9", "/v1/ws");
    EXPECT_EQ(f.line(7)["suppressed"], 0);
}

TEST(SecurityEventLog, NothingIsWrittenWhenWarningsAreOffOrThereIsNoLogger) {
    Fixture f;
    f.logger->set_level(log::Level::error);
    SecurityEventLog events(f.logger.get(), f.clock);
    events.authorization_denied("anonymous", "subscribe", "t", "");
    EXPECT_TRUE(f.sink->lines().empty());
    SecurityEventLog none(nullptr, f.clock);
    none.authorization_denied("anonymous", "subscribe", "t", "");  // no crash, nothing to write to
}

}  // namespace
}  // namespace herald::server
