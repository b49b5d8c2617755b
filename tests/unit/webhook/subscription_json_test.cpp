// Shared subscription records (several nodes over one engine): definitions and progress survive a round trip,
// and what is not a record is refused.
#include <gtest/gtest.h>

#include "webhook/subscription_json.hpp"

namespace herald::webhook {
namespace {

Subscription sample() {
    Subscription s;
    s.id = "wh_0123456789ab";
    s.created_at_ms = 1'795'791'845'123;
    s.spec.topic = "orders.eu";
    s.spec.url = "https://hooks.example.com/in?x=\"1\"";
    s.spec.types = {"shop.order*", "shop.refundIssued.v1"};
    s.spec.mode = DeliveryMode::concurrent;
    s.spec.max_in_flight = 7;
    s.spec.retry_schedule = {std::chrono::milliseconds(50), std::chrono::milliseconds(2000)};
    s.spec.disable_after = std::chrono::milliseconds(3'600'000);
    s.spec.rate_limit = 12.5;
    s.spec.timeout = std::chrono::milliseconds(2500);
    s.spec.content_mode = ContentMode::binary;
    s.spec.validation_handshake = true;
    s.secrets = {{"whsec_bmV3ZXN0LXNlY3JldC1ieXRlcw==", std::nullopt},
                 {"whsec_b2xkLXNlY3JldC1ieXRlcy0wMQ==", 1'795'800'000'000}};
    s.status.state = SubscriptionState::paused;
    s.status.epoch = 0x9f86d081884c7d65;
    s.status.next_offset = 42;
    return s;
}

TEST(SubscriptionJson, DefinitionRoundTrip) {
    auto s = sample();
    auto back = parse_definition(definition_json(s));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->id, s.id);
    EXPECT_EQ(back->created_at_ms, s.created_at_ms);
    EXPECT_EQ(back->spec.topic, s.spec.topic);
    EXPECT_EQ(back->spec.url, s.spec.url);
    EXPECT_EQ(back->spec.types, s.spec.types);
    EXPECT_EQ(back->spec.mode, s.spec.mode);
    EXPECT_EQ(back->spec.max_in_flight, s.spec.max_in_flight);
    EXPECT_EQ(back->spec.retry_schedule, s.spec.retry_schedule);
    EXPECT_EQ(back->spec.disable_after, s.spec.disable_after);
    EXPECT_EQ(back->spec.rate_limit, s.spec.rate_limit);
    EXPECT_EQ(back->spec.timeout, s.spec.timeout);
    EXPECT_EQ(back->spec.content_mode, s.spec.content_mode);
    EXPECT_EQ(back->spec.validation_handshake, s.spec.validation_handshake);
    EXPECT_EQ(back->secrets, s.secrets);
    EXPECT_EQ(back->status.state, SubscriptionState::paused);
    EXPECT_EQ(back->status.epoch, s.status.epoch);
    EXPECT_EQ(back->status.next_offset, 42u);
}

TEST(SubscriptionJson, DisabledIsTheDispatchersVerdictNotTheDefinitions) {
    auto s = sample();
    s.status.state = SubscriptionState::disabled;
    auto back = parse_definition(definition_json(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->status.state, SubscriptionState::active);
}

TEST(SubscriptionJson, ProgressRoundTrip) {
    SubscriptionStatus st;
    st.state = SubscriptionState::disabled;
    st.disabled_reason = "the receiver answered 410 Gone";
    st.epoch = 7;
    st.next_offset = 1'000'000'000'000ull;
    st.failing_since_ms = 1'795'791'000'000;
    st.last_attempt_ms = 1'795'791'845'000;
    st.last_status = 410;
    st.last_error = "gone";
    st.delivered = 99;
    st.dead_lettered = 3;
    auto back = parse_progress(progress_json(st));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->state, st.state);
    EXPECT_EQ(back->disabled_reason, st.disabled_reason);
    EXPECT_EQ(back->epoch, st.epoch);
    EXPECT_EQ(back->next_offset, st.next_offset);
    EXPECT_EQ(back->failing_since_ms, st.failing_since_ms);
    EXPECT_EQ(back->last_attempt_ms, st.last_attempt_ms);
    EXPECT_EQ(back->last_status, st.last_status);
    EXPECT_EQ(back->last_error, st.last_error);
    EXPECT_EQ(back->delivered, st.delivered);
    EXPECT_EQ(back->dead_lettered, st.dead_lettered);
    SubscriptionStatus fresh;
    auto plain = parse_progress(progress_json(fresh));
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->failing_since_ms);
}

TEST(SubscriptionJson, RefusesWhatIsNotARecord) {
    EXPECT_FALSE(parse_definition("[]"));
    EXPECT_FALSE(parse_definition("{"));
    EXPECT_FALSE(parse_definition(R"({"id":"wh_1","topic":"t"})"));  // no url
    auto s = sample();
    s.secrets.clear();
    EXPECT_FALSE(parse_definition(definition_json(s)));  // no secret: deliveries could not be signed
    auto z = sample();
    z.spec.timeout = std::chrono::milliseconds(0);
    EXPECT_FALSE(parse_definition(definition_json(z)));
    EXPECT_FALSE(parse_progress("null"));
}

}  // namespace
}  // namespace herald::webhook
