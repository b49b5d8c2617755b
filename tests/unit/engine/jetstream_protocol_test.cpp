// The pure parts of the JetStream engine: names, message ids, epochs, acknowledgements and stored messages.
#include <gtest/gtest.h>

#include <set>

#include "base/base64.hpp"
#include "engine/jetstream_protocol.hpp"

namespace herald::engine::jetstream {
namespace {

TEST(JetStreamNames, StreamNamesEscapeDotsAndUnderscoresReversibly) {
    EXPECT_EQ(stream_name("HERALD_", "orders"), "HERALD_orders");
    EXPECT_EQ(stream_name("HERALD_", "orders.eu"), "HERALD_orders_deu");
    EXPECT_EQ(stream_name("HERALD_", "a_b"), "HERALD_a__b");
    EXPECT_EQ(stream_name("HERALD_", "a_d"), "HERALD_a__d");
    // Injective: the topics that could collide under a naive escape get different streams.
    std::set<std::string> streams;
    for (const char* t : {"a.b", "a_b", "a_db", "a.db", "a__b", "a_.b", "a._b", "a-b"})
        EXPECT_TRUE(streams.insert(stream_name("P_", t)).second) << t;
    for (const char* t : {"a.b", "a_b", "a_db", "a.db", "a__b", "a_.b", "a._b", "a-b", "x9", "0.0.0"}) {
        auto back = topic_of_stream("P_", stream_name("P_", t));
        ASSERT_TRUE(back) << t;
        EXPECT_EQ(*back, t);
    }
}

TEST(JetStreamNames, ForeignStreamsAreNotTopics) {
    EXPECT_FALSE(topic_of_stream("HERALD_", "ORDERS"));          // another prefix
    EXPECT_FALSE(topic_of_stream("HERALD_", "HERALD_"));         // empty topic
    EXPECT_FALSE(topic_of_stream("HERALD_", "HERALD_a_x"));      // not an escape
    EXPECT_FALSE(topic_of_stream("HERALD_", "HERALD_a_"));       // dangling escape
    EXPECT_FALSE(topic_of_stream("HERALD_", "HERALD_Orders"));   // not a valid topic name
    EXPECT_FALSE(topic_of_stream("HERALD_", "HERALD__dx"));      // would start with '.'
    EXPECT_FALSE(topic_of_stream("HERALD_", "HERALD_a.b"));      // '.' is written "_d": not canonical
}

TEST(JetStreamIds, MessageIdsAreStableDistinctAndHeaderSafe) {
    auto a = event_message_id("", "/orders", "42");
    EXPECT_EQ(a, event_message_id("", "/orders", "42"));
    EXPECT_NE(a, event_message_id("", "/orders", "43"));
    EXPECT_NE(a, event_message_id("", "/order", "s42"));  // fields are length-prefixed
    EXPECT_EQ(a.rfind("ev-", 0), 0u);
    EXPECT_EQ(a.size(), 3u + 64u);
    auto odd = event_message_id("", "urn:x\r\nX-Evil: 1", "id with spaces \xff");
    for (char c : odd) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-') << odd;
    EXPECT_NE(idempotency_message_id("", "k", 0), idempotency_message_id("", "k", 1));
    EXPECT_NE(idempotency_message_id("", "k", 0), idempotency_message_id("", "l", 0));
    EXPECT_EQ(idempotency_message_id("", "k", 3).rfind("ik-", 0), 0u);
}

// On a stream shared by every topic the duplicate window spans topics: one event id on two topics is two events.
TEST(JetStreamIds, OnASharedStreamTheTopicIsPartOfTheId) {
    EXPECT_NE(event_message_id("orders", "/s", "1"), event_message_id("payments", "/s", "1"));
    EXPECT_EQ(event_message_id("orders", "/s", "1"), event_message_id("orders", "/s", "1"));
    EXPECT_NE(event_message_id("orders", "/s", "1"), event_message_id("", "/s", "1"));
    EXPECT_NE(idempotency_message_id("orders", "k", 0), idempotency_message_id("payments", "k", 0));
    EXPECT_NE(idempotency_message_id("orders", "k", 0), idempotency_message_id("", "k", 0));
}

TEST(JetStreamSharedLayout, TopicRecordsRoundTripAndRefuseJunk) {
    EXPECT_EQ(shared_stream_name("HERALD_"), "HERALD_EVENTS");
    // Topic names are lower case, so no topic's own stream can be the shared one.
    EXPECT_FALSE(topic_of_stream("HERALD_", shared_stream_name("HERALD_")));
    EXPECT_EQ(topic_record_key("orders.eu"), "topic.orders.eu");
    for (std::uint64_t e : {1ull, 0x9f86d081884c7d65ull, ~0ull}) {
        auto back = parse_topic_record(topic_record(e));
        ASSERT_TRUE(back) << topic_record(e);
        EXPECT_EQ(*back, e);
    }
    EXPECT_EQ(topic_record(0x2a), R"({"epoch":"000000000000002a"})");
    for (const char* bad : {"", "{}", "[]", R"({"epoch":42})", R"({"epoch":"2a"})", R"({"epoch":"0000000000000000"})",
                            R"({"epoch":"000000000000002A"})", R"({"epoch":"00000000000000zz"})", "{\"epoch\":"})
        EXPECT_FALSE(parse_topic_record(bad)) << bad;
    auto a = new_topic_epoch("HERALD_EVENTS", "orders");
    auto b = new_topic_epoch("HERALD_EVENTS", "orders");
    EXPECT_NE(a, 0u);
    EXPECT_NE(a, b);  // created again: old cursors must not fit
}

TEST(JetStreamIds, EpochDependsOnStreamAndCreation) {
    auto e = stream_epoch("HERALD_orders", 1'764'000'000'000'000'000);
    EXPECT_EQ(e, stream_epoch("HERALD_orders", 1'764'000'000'000'000'000));
    EXPECT_NE(e, stream_epoch("HERALD_orders", 1'764'000'000'000'000'001));  // deleted and created again
    EXPECT_NE(e, stream_epoch("HERALD_payments", 1'764'000'000'000'000'000));
    EXPECT_NE(e, 0u);
}

TEST(JetStreamAcks, AcknowledgementsAndErrors) {
    auto ok = parse_pub_ack(R"({"stream":"HERALD_orders","seq":17})");
    ASSERT_TRUE(ok);
    EXPECT_TRUE(ok->ok());
    EXPECT_EQ(ok->sequence, 17u);
    EXPECT_FALSE(ok->duplicate);

    auto dup = parse_pub_ack(R"({"stream":"HERALD_orders","seq":3,"duplicate":true})");
    ASSERT_TRUE(dup);
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->sequence, 3u);

    auto no_leader = parse_pub_ack(R"({"error":{"code":503,"err_code":10008,"description":"JetStream system temporarily unavailable"}})");
    ASSERT_TRUE(no_leader);
    EXPECT_FALSE(no_leader->ok());
    EXPECT_TRUE(no_leader->retryable());

    auto wrong = parse_pub_ack(R"({"error":{"code":400,"err_code":10060,"description":"expected stream does not match"}})");
    ASSERT_TRUE(wrong);
    EXPECT_FALSE(wrong->retryable());
    EXPECT_EQ(wrong->api_error_code, 10060);
    EXPECT_EQ(wrong->description, "expected stream does not match");

    EXPECT_FALSE(parse_pub_ack("not json"));
    EXPECT_FALSE(parse_pub_ack(R"({"stream":"x"})"));  // no sequence
    EXPECT_FALSE(parse_pub_ack("[1]"));
}

TEST(JetStreamMessages, StoredMessagesDecode) {
    auto data = base64_encode(std::string_view("\x01payload\x00bytes", 14));
    auto m = parse_msg_get(R"({"type":"io.nats.jetstream.api.v1.stream_msg_get_response","message":{"subject":"herald.orders","seq":5,"data":")" +
                           data + R"(","time":"2026-11-27T15:04:05.123456789Z"}})");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->sequence, 5u);
    EXPECT_EQ(m->data, std::string("\x01payload\x00bytes", 14));
    EXPECT_EQ(m->timestamp_ms, 1'795'791'845'123);

    auto missing = parse_msg_get(R"({"error":{"code":404,"err_code":10037,"description":"no message found"}})");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);
    auto busy = parse_msg_get(R"({"error":{"code":503,"description":"no leader"}})");
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().code, Errc::unavailable);
    EXPECT_EQ(parse_msg_get(R"({"message":{"seq":1,"data":"!!"}})").error().code, Errc::corrupt);
    EXPECT_EQ(parse_msg_get(R"({"message":{"data":""}})").error().code, Errc::corrupt);
    EXPECT_EQ(parse_msg_get("{").error().code, Errc::corrupt);
}

TEST(JetStreamMessages, HeadersOfStoredMessages) {
    const std::string block = "NATS/1.0\r\nNats-Msg-Id: ev-1\r\nherald-epoch:  000000000000002a \r\n\r\n";
    auto m = parse_msg_get(R"({"message":{"seq":3,"data":"","hdrs":")" + base64_encode(block) + R"("}})");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->headers, block);
    EXPECT_EQ(header_value(m->headers, kEpochHeader), "000000000000002a");  // names are case-insensitive
    EXPECT_EQ(header_value(m->headers, "Nats-Msg-Id"), "ev-1");
    EXPECT_FALSE(header_value(m->headers, "Nats-Msg"));
    EXPECT_FALSE(header_value("", kEpochHeader));
    EXPECT_FALSE(header_value("NATS/1.0\r\n\r\nHerald-Epoch: 1\r\n", kEpochHeader));  // after the end
    EXPECT_EQ(parse_msg_get(R"({"message":{"seq":3,"data":"","hdrs":"!!"}})").error().code, Errc::corrupt);
}

TEST(JetStreamMessages, Timestamps) {
    EXPECT_EQ(parse_timestamp_ms("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_timestamp_ms("1970-01-01T00:00:01.5Z"), 1500);
    EXPECT_EQ(parse_timestamp_ms("1970-01-01T01:00:00+01:00"), 0);
    EXPECT_EQ(parse_timestamp_ms("2024-02-29T12:00:00.999999Z"), 1'709'208'000'999);
    EXPECT_FALSE(parse_timestamp_ms("2023-02-29T12:00:00Z"));  // not a day
    EXPECT_FALSE(parse_timestamp_ms("2024-01-01 12:00:00Z"));
    EXPECT_FALSE(parse_timestamp_ms("2024-01-01T12:00:00"));
    EXPECT_FALSE(parse_timestamp_ms("2024-01-01T12:00:00.Z"));
    EXPECT_FALSE(parse_timestamp_ms(""));
}

}  // namespace
}  // namespace herald::engine::jetstream
