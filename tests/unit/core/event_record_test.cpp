// The event record codec: the exact byte layout documented in event_record.hpp, field limits, and
// rejection of every truncation and unknown version as corruption (the storage layer's recovery
// relies on that).

#include "core/event_record.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace herald::core {
namespace {

using namespace std::string_literals;

TEST(EventRecord, ExactByteLayout) {
    auto r = encode_event_record("ab", "t", "", "{}");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r,
              "\x01"s  // version
              "\x02\x00"
              "ab"s  // id
              "\x01\x00"
              "t"s         // type
              "\x00\x00"s  // no idempotency key
              "{}"s);
}

// The publish metrics count stored bytes without encoding a record twice.
TEST(EventRecord, SizeIsKnownWithoutEncoding) {
    for (auto [id, type, key, json] : {std::array<std::string, 4>{"ab", "t", "", "{}"},
                                       std::array<std::string, 4>{"id-1", "shop.orderPlaced.v1", "k-9", "{\"a\":1}"},
                                       std::array<std::string, 4>{std::string(300, 'i'), "x", "", "[]"}}) {
        auto r = encode_event_record(id, type, key, json);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->size(), event_record_size(id, type, key, json));
    }
}

TEST(EventRecord, LengthsAreLittleEndian) {
    const std::string id(0x0102, 'i');
    const std::string key(0xFFFF, 'k');
    auto r = encode_event_record(id, "", key, "{}");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1 + 2 + id.size() + 2 + 2 + key.size() + 2);
    EXPECT_EQ(static_cast<unsigned char>((*r)[1]), 0x02);
    EXPECT_EQ(static_cast<unsigned char>((*r)[2]), 0x01);
    const std::size_t key_len_at = 1 + 2 + id.size() + 2;
    EXPECT_EQ(static_cast<unsigned char>((*r)[key_len_at]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>((*r)[key_len_at + 1]), 0xFF);
    auto v = decode_event_record(*r);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->id, id);
    EXPECT_EQ(v->type, "");
    EXPECT_EQ(v->idempotency_key, key);
    EXPECT_EQ(v->json, "{}");
}

TEST(EventRecord, RoundTripWithViewsIntoThePayload) {
    const std::string json = R"({"specversion":"1.0","id":"e-1","source":"/s","type":"com.x"})";
    auto r = encode_event_record("e-1", "com.x", "idem-42", json);
    ASSERT_TRUE(r);
    const std::string payload = *r;
    auto v = decode_event_record(payload);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->id, "e-1");
    EXPECT_EQ(v->type, "com.x");
    EXPECT_EQ(v->idempotency_key, "idem-42");
    EXPECT_EQ(v->json, json);
    for (std::string_view field : {v->id, v->type, v->idempotency_key, v->json}) {
        EXPECT_GE(field.data(), payload.data());
        EXPECT_LE(field.data() + field.size(), payload.data() + payload.size());
    }
}

TEST(EventRecord, ArbitraryBytesSurvive) {
    const std::string id("\x00\xFF\x01", 3);
    const std::string json("\x00{}\xFF", 4);
    auto r = encode_event_record(id, "\n", std::string(1, '\0'), json);
    ASSERT_TRUE(r);
    auto v = decode_event_record(*r);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->id, id);
    EXPECT_EQ(v->type, "\n");
    EXPECT_EQ(v->idempotency_key, std::string(1, '\0'));
    EXPECT_EQ(v->json, json);
}

TEST(EventRecord, FieldLimits) {
    const std::string max(0xFFFF, 'x');
    const std::string over(0x10000, 'x');
    EXPECT_TRUE(encode_event_record(max, max, max, "{}"));
    auto r = encode_event_record(over, "t", "", "{}");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().attribute, "id");
    r = encode_event_record("i", over, "", "{}");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().attribute, "type");
    r = encode_event_record("i", "t", over, "{}");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().attribute, "idempotency_key");
    // The JSON part has no length prefix, so it has no such limit.
    EXPECT_TRUE(encode_event_record("i", "t", "", std::string(0x20000, ' ')));
}

TEST(EventRecord, EmptyJsonIsRejected) {
    auto r = encode_event_record("i", "t", "k", "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().attribute, "json");
}

TEST(EventRecord, EveryTruncationIsCorrupt) {
    auto r = encode_event_record("event-id", "com.example.type", "key", R"({"a":1})");
    ASSERT_TRUE(r);
    const std::string payload = *r;
    for (std::size_t len = 0; len < payload.size(); ++len) {
        auto v = decode_event_record(std::string_view(payload).substr(0, len));
        if (len >= 1 + 2 + 8 + 2 + 16 + 2 + 3 + 1) {
            // Cutting into the JSON part still leaves a well-formed (shorter) record: the layout
            // has no total length, so only the storage layer's checksum can catch that.
            ASSERT_TRUE(v) << len;
            EXPECT_EQ(v->json,
                      std::string_view(R"({"a":1})").substr(0, len - (1 + 2 + 8 + 2 + 16 + 2 + 3)));
            continue;
        }
        ASSERT_FALSE(v) << "prefix of " << len << " bytes decoded";
        EXPECT_EQ(v.error().code, Errc::corrupt) << len;
    }
    EXPECT_TRUE(decode_event_record(payload));
}

TEST(EventRecord, UnknownVersionIsCorrupt) {
    auto r = encode_event_record("i", "t", "", "{}");
    ASSERT_TRUE(r);
    for (unsigned char version : {0x00, 0x02, 0x7F, 0xFF}) {
        std::string payload = *r;
        payload[0] = static_cast<char>(version);
        auto v = decode_event_record(payload);
        ASSERT_FALSE(v);
        EXPECT_EQ(v.error().code, Errc::corrupt);
    }
}

TEST(EventRecord, LengthBeyondPayloadIsCorrupt) {
    // id claims 0x0100 bytes but only a few follow.
    auto v = decode_event_record(
        "\x01\x00\x01"
        "abc"s);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, Errc::corrupt);
    // type length byte present but its second byte missing.
    v = decode_event_record("\x01\x00\x00\x05"s);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, Errc::corrupt);
}

}  // namespace
}  // namespace herald::core
