// The CloudEvents Kafka binding as the Kafka engine applies it (engine/kafka_record.hpp): Herald's own records
// read back without parsing, structured and binary records from other producers, and the wrapping of anything
// else — with the unhappy cases (invalid events, non-UTF-8 keys) wrapped rather than lost.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "engine/kafka_record.hpp"

namespace herald::engine::kafka {
namespace {

namespace json = boost::json;

const std::string kEvent =
    R"({"specversion":"1.0","id":"e-1","source":"/shop","type":"shop.orderPlaced.v1","subject":"o-9","ext1":"x","data":{"n":1}})";

RecordIn record(std::string_view value, const std::vector<RecordHeader>& headers, std::int64_t offset = 7) {
    RecordIn r;
    r.topic = "orders";
    r.partition = 0;
    r.offset = offset;
    r.timestamp_ms = 1'764'000'000'123;
    r.value = value;
    r.headers = &headers;
    return r;
}

TEST(KafkaRecord, StructuredWriteRoundTripsWithoutParsing) {
    auto out = record_from_event("e-1", "/shop", "shop.orderPlaced.v1", {"key-1", 1, 3}, kEvent, WriteFormat::structured);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->value, kEvent);
    auto ev = event_from_record(record(out->value, out->headers), {});
    EXPECT_FALSE(ev.wrapped);
    EXPECT_EQ(ev.id, "e-1");
    EXPECT_EQ(ev.source, "/shop");
    EXPECT_EQ(ev.type, "shop.orderPlaced.v1");
    EXPECT_EQ(ev.idempotency_key, "key-1");
    EXPECT_EQ(ev.request_index, 1u);
    EXPECT_EQ(ev.request_count, 3u);
    EXPECT_EQ(ev.json, kEvent);
}

TEST(KafkaRecord, BinaryWriteCarriesEveryAttributeAsHeaders) {
    auto out = record_from_event("e-1", "/shop", "shop.orderPlaced.v1", {}, kEvent, WriteFormat::binary);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->value, R"({"n":1})");
    auto has = [&](std::string_view name, std::string_view value) {
        for (auto& [n, v] : out->headers)
            if (n == name) return v == value;
        return false;
    };
    EXPECT_TRUE(has("ce_specversion", "1.0"));
    EXPECT_TRUE(has("ce_id", "e-1"));
    EXPECT_TRUE(has("ce_source", "/shop"));
    EXPECT_TRUE(has("ce_type", "shop.orderPlaced.v1"));
    EXPECT_TRUE(has("ce_subject", "o-9"));
    EXPECT_TRUE(has("ce_ext1", "x"));
    EXPECT_TRUE(has("content-type", "application/json"));  // implied by JSON data in the JSON format
    // Read back (by a node, or after a restart): the same event.
    auto ev = event_from_record(record(out->value, out->headers), {});
    EXPECT_FALSE(ev.wrapped);
    auto a = json::parse(ev.json).as_object();
    EXPECT_EQ(a.at("id"), "e-1");
    EXPECT_EQ(a.at("subject"), "o-9");
    EXPECT_EQ(a.at("ext1"), "x");
    EXPECT_EQ(json::serialize(a.at("data")), R"({"n":1})");
}

TEST(KafkaRecord, BinaryWriteRefusesWhatIsNotAnEvent) {
    auto out = record_from_event("e", "/s", "t", {}, "not json", WriteFormat::binary);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, Errc::invalid_argument);
}

TEST(KafkaRecord, StructuredRecordsFromOtherProducers) {
    std::vector<RecordHeader> h{{"Content-Type", "application/cloudevents+json; charset=UTF-8"}};
    auto ev = event_from_record(record(kEvent, h), {});
    EXPECT_FALSE(ev.wrapped);
    EXPECT_EQ(ev.id, "e-1");
    EXPECT_EQ(ev.source, "/shop");
    EXPECT_EQ(ev.type, "shop.orderPlaced.v1");
    EXPECT_TRUE(ev.idempotency_key.empty());
}

TEST(KafkaRecord, BinaryRecordsFromOtherProducersKeepRawHeaderValues) {
    // Kafka header values are not percent-encoded: a '%' or a space is itself.
    std::vector<RecordHeader> h{{"ce_specversion", "1.0"},   {"ce_id", "b 1%"},
                                {"ce_source", "/billing"},   {"ce_type", "billing.invoicePaid.v1"},
                                {"ce_time", "2026-11-27T10:00:00Z"}, {"content-type", "text/plain"}};
    auto ev = event_from_record(record("paid", h), {});
    EXPECT_FALSE(ev.wrapped);
    EXPECT_EQ(ev.id, "b 1%");
    auto o = json::parse(ev.json).as_object();
    EXPECT_EQ(o.at("data"), "paid");
    EXPECT_EQ(o.at("datacontenttype"), "text/plain");
    EXPECT_EQ(o.at("time"), "2026-11-27T10:00:00Z");
}

TEST(KafkaRecord, PlainRecordsAreWrappedWithAStableId) {
    std::vector<RecordHeader> none;
    WrapSettings wrap{"legacy.orderRecorded.v1", "/legacy"};
    auto r = record(R"({"total": 12})", none, 41);
    std::string key = "cust-7";
    r.key = key;
    auto ev = event_from_record(r, wrap);
    EXPECT_TRUE(ev.wrapped);
    EXPECT_EQ(ev.id, "orders-0-41");  // the same on every node and every read
    EXPECT_EQ(ev.source, "/legacy");
    EXPECT_EQ(ev.type, "legacy.orderRecorded.v1");
    auto o = json::parse(ev.json).as_object();
    EXPECT_EQ(o.at("partitionkey"), "cust-7");
    EXPECT_EQ(o.at("datacontenttype"), "application/json");
    EXPECT_EQ(json::serialize(o.at("data")), R"({"total":12})");
    EXPECT_EQ(o.at("time"), "2025-11-24T16:00:00.123Z");
}

TEST(KafkaRecord, BytesAreWrappedAsBase64AndBadKeysLeftOut) {
    std::vector<RecordHeader> none;
    auto r = record(std::string_view("\xde\xad\xbe\xef", 4), none);
    std::string key = "\xff\xfe";  // not UTF-8: no valid string attribute
    r.key = key;
    auto ev = event_from_record(r, {});
    EXPECT_TRUE(ev.wrapped);
    EXPECT_EQ(ev.source, "kafka:orders");
    EXPECT_EQ(ev.type, "kafka.recordReceived.v1");
    auto o = json::parse(ev.json).as_object();
    EXPECT_EQ(o.at("data_base64"), "3q2+7w==");
    EXPECT_FALSE(o.contains("partitionkey"));
}

TEST(KafkaRecord, InvalidCloudEventsAreWrappedNotLost) {
    // Claims structured mode but misses `type`; claims binary mode but has no id.
    std::vector<RecordHeader> structured{{"content-type", "application/cloudevents+json"}};
    auto a = event_from_record(record(R"({"specversion":"1.0","id":"x","source":"/s"})", structured), {});
    EXPECT_TRUE(a.wrapped);
    std::vector<RecordHeader> binary{{"ce_specversion", "1.0"}, {"ce_source", "/s"}, {"ce_type", "a.b.v1"}};
    auto b = event_from_record(record("{}", binary), {});
    EXPECT_TRUE(b.wrapped);
    EXPECT_EQ(b.id, "orders-0-7");
    // An empty value (a tombstone) is an event without data.
    std::vector<RecordHeader> none;
    auto c = event_from_record(record("", none), {});
    EXPECT_FALSE(json::parse(c.json).as_object().contains("data"));
}

TEST(RequestRuns, ARequestCountsOnceEveryPartWasReadInOrder) {
    RequestRuns runs;
    EXPECT_FALSE(runs.add("k", 10, 0, 3));
    EXPECT_FALSE(runs.add("other", 11, 0, 2));  // another request's parts may sit between
    EXPECT_FALSE(runs.add("k", 12, 1, 3));
    auto done = runs.add("k", 13, 2, 3);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->offset, 10u);
    EXPECT_EQ(done->count, 3u);
    auto one = runs.add("single", 20, 0, 1);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->count, 1u);
}

TEST(RequestRuns, APartMissingMeansTheRequestIsNotReplayable) {
    RequestRuns runs;
    // Part 1 failed (a 503): parts 0 and 2 were stored. The retry must store part 1, not be a replay.
    EXPECT_FALSE(runs.add("k", 10, 0, 3));
    EXPECT_FALSE(runs.add("k", 11, 2, 3));
    EXPECT_FALSE(runs.add("k", 12, 1, 3)) << "the run was dropped at the gap";
    // A part without its start, or an impossible index, is nothing.
    EXPECT_FALSE(runs.add("late", 30, 1, 2));
    EXPECT_FALSE(runs.add("bad", 31, 2, 2));
    EXPECT_FALSE(runs.add("none", 32, 0, 0));
}

TEST(RequestRuns, BoundedInMemory) {
    RequestRuns runs(2);
    EXPECT_FALSE(runs.add("a", 1, 0, 2));
    EXPECT_FALSE(runs.add("b", 2, 0, 2));
    EXPECT_FALSE(runs.add("c", 3, 0, 2));  // drops the oldest knowledge ("a")
    EXPECT_FALSE(runs.add("a", 4, 1, 2));
    EXPECT_TRUE(runs.add("c", 5, 1, 2));
}

TEST(KafkaRecord, EpochIsStablePerClusterAndTopic) {
    EXPECT_EQ(topic_epoch("cluster-a", "orders"), topic_epoch("cluster-a", "orders"));
    EXPECT_NE(topic_epoch("cluster-a", "orders"), topic_epoch("cluster-b", "orders"));
    EXPECT_NE(topic_epoch("cluster-a", "orders"), topic_epoch("cluster-a", "order"));
    EXPECT_NE(topic_epoch("ab", "c"), topic_epoch("a", "bc"));
}

}  // namespace
}  // namespace herald::engine::kafka
