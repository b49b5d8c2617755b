#include "trace/context.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herald::trace {
namespace {

constexpr std::string_view kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kParentId = "00f067aa0ba902b7";

std::string tp(std::string_view version, std::string_view trace_id, std::string_view parent, std::string_view flags) {
    return std::string(version) + "-" + std::string(trace_id) + "-" + std::string(parent) + "-" + std::string(flags);
}

TEST(Traceparent, ParsesTheSpecExample) {
    auto c = parse_traceparent(tp("00", kTraceId, kParentId, "01"));
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(to_hex(c->trace_id), kTraceId);
    EXPECT_EQ(to_hex(c->span_id), kParentId);
    EXPECT_EQ(c->flags, 0x01);
    EXPECT_TRUE(c->sampled());
    EXPECT_TRUE(c->valid());
    EXPECT_EQ(format_traceparent(*c), tp("00", kTraceId, kParentId, "01"));
}

TEST(Traceparent, UnsampledAndSurroundingWhitespace) {
    auto c = parse_traceparent(" \t" + tp("00", kTraceId, kParentId, "00") + "  ");
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->sampled());
    EXPECT_EQ(format_traceparent(*c), tp("00", kTraceId, kParentId, "00"));
}

TEST(Traceparent, UnknownFlagsAreNotWrittenBack) {
    auto c = parse_traceparent(tp("00", kTraceId, kParentId, "ff"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->flags, 0xff);
    EXPECT_TRUE(c->sampled());
    // Version 00 defines only the sampled flag; the others are written as zero.
    EXPECT_EQ(format_traceparent(*c).substr(53), "01");
}

struct Invalid {
    const char* why;
    std::string value;
};

TEST(Traceparent, RefusesEveryBrokenRule) {
    const std::string upper_trace = "4BF92F3577B34DA6A3CE929D0E0E4736";
    const Invalid corpus[] = {
        {"empty", ""},
        {"too short", tp("00", kTraceId, kParentId, "0")},
        {"v00 too long", tp("00", kTraceId, kParentId, "01") + "-"},
        {"v00 trailing data", tp("00", kTraceId, kParentId, "01") + "-extra"},
        {"upper-case trace-id", tp("00", upper_trace, kParentId, "01")},
        {"upper-case parent-id", tp("00", kTraceId, "00F067AA0BA902B7", "01")},
        {"upper-case flags", tp("00", kTraceId, kParentId, "0A")},
        {"upper-case version", tp("0A", kTraceId, kParentId, "01")},
        {"all-zero trace-id", tp("00", std::string(32, '0'), kParentId, "01")},
        {"all-zero parent-id", tp("00", kTraceId, std::string(16, '0'), "01")},
        {"version ff", tp("ff", kTraceId, kParentId, "01")},
        {"non-hex version", tp("0g", kTraceId, kParentId, "01")},
        {"non-hex trace-id", tp("00", "4bf92f3577b34da6a3ce929d0e0e473z", kParentId, "01")},
        {"non-hex parent-id", tp("00", kTraceId, "00f067aa0ba902bx", "01")},
        {"non-hex flags", tp("00", kTraceId, kParentId, "0x")},
        {"wrong separator", "00_" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01"},
        {"short trace-id", "00-" + std::string(kTraceId.substr(1)) + "-" + std::string(kParentId) + "-01x"},
        {"future version without '-' after flags", tp("01", kTraceId, kParentId, "01") + "x"},
    };
    for (auto& c : corpus) {
        auto r = parse_traceparent(c.value);
        EXPECT_FALSE(r) << c.why << ": " << c.value;
        if (!r) {
            EXPECT_EQ(r.error().attribute, "traceparent") << c.why;
        }
    }
}

TEST(Traceparent, FutureVersionsAreReadByTheirFirstFourFields) {
    auto exact = parse_traceparent(tp("cc", kTraceId, kParentId, "01"));
    ASSERT_TRUE(exact);
    auto longer = parse_traceparent(tp("cc", kTraceId, kParentId, "01") + "-what-the-future-will-be-like");
    ASSERT_TRUE(longer);
    EXPECT_EQ(to_hex(longer->trace_id), kTraceId);
    EXPECT_EQ(to_hex(longer->span_id), kParentId);
    // Written back as version 00.
    EXPECT_EQ(format_traceparent(*longer), tp("00", kTraceId, kParentId, "01"));
}

TEST(Traceparent, FormatsIntoAFixedBuffer) {
    SpanContext c;
    for (std::size_t i = 0; i < c.trace_id.size(); ++i) c.trace_id[i] = static_cast<std::uint8_t>(i + 1);
    for (std::size_t i = 0; i < c.span_id.size(); ++i) c.span_id[i] = static_cast<std::uint8_t>(0xa0 + i);
    c.flags = kSampled;
    char buf[kTraceparentSize];
    format_traceparent(c, buf);
    EXPECT_EQ(std::string(buf, sizeof buf), "00-0102030405060708090a0b0c0d0e0f10-a0a1a2a3a4a5a6a7-01");
    auto back = parse_traceparent(std::string(buf, sizeof buf));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->trace_id, c.trace_id);
    EXPECT_EQ(back->span_id, c.span_id);
}

TEST(Traceparent, ZeroContextIsInvalid) {
    SpanContext c;
    EXPECT_FALSE(c.valid());
    c.trace_id[15] = 1;
    EXPECT_FALSE(c.valid());
    c.span_id[0] = 1;
    EXPECT_TRUE(c.valid());
}

TEST(Tracestate, KeepsValidMembersInOrder) {
    EXPECT_EQ(normalize_tracestate("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    EXPECT_EQ(normalize_tracestate(" a=1 ,\tb=2 "), "a=1,b=2");
    EXPECT_EQ(normalize_tracestate("a=1,,b=2,"), "a=1,b=2");  // empty list-members are allowed and skipped
    EXPECT_EQ(normalize_tracestate("tenant@vendor=x,1tenant@v=y"), "tenant@vendor=x,1tenant@v=y");
    EXPECT_EQ(normalize_tracestate("a=value with inner spaces"), "a=value with inner spaces");
    EXPECT_EQ(normalize_tracestate(""), "");
}

TEST(Tracestate, DropsInvalidMembersAndLaterDuplicates) {
    EXPECT_EQ(normalize_tracestate("A=1,b=2"), "b=2");          // upper-case key
    EXPECT_EQ(normalize_tracestate("1a=1,b=2"), "b=2");         // a simple key starts with a letter
    EXPECT_EQ(normalize_tracestate("a=1,a=2,b=3"), "a=1,b=3");  // keys are unique: the first wins
    EXPECT_EQ(normalize_tracestate("a=x=y,b=2"), "b=2");        // '=' in a value
    EXPECT_EQ(normalize_tracestate("a=,b=2"), "b=2");           // empty value
    EXPECT_EQ(normalize_tracestate("noequals,b=2"), "b=2");
    EXPECT_EQ(normalize_tracestate("a=bad\x01value,b=2"), "b=2");
    EXPECT_EQ(normalize_tracestate("t@verylongsystemid=1,b=2"), "b=2");  // system-id up to 14 characters
    EXPECT_EQ(normalize_tracestate("a=1\r\nx: y"), "");  // no header injection survives
}

TEST(Tracestate, KeyAndValueLimits) {
    EXPECT_TRUE(is_tracestate_key("a" + std::string(255, 'b')));
    EXPECT_FALSE(is_tracestate_key("a" + std::string(256, 'b')));
    EXPECT_TRUE(is_tracestate_key("t@" + std::string(14, 's')));
    EXPECT_FALSE(is_tracestate_key("t@" + std::string(15, 's')));
    EXPECT_TRUE(is_tracestate_key(std::string(241, 't') + "@s"));
    EXPECT_FALSE(is_tracestate_key(std::string(242, 't') + "@s"));
    EXPECT_FALSE(is_tracestate_key("t@1s"));
    EXPECT_FALSE(is_tracestate_key(""));
    EXPECT_TRUE(is_tracestate_key("a_-*/9"));
    EXPECT_TRUE(is_tracestate_value(std::string(256, 'v')));
    EXPECT_FALSE(is_tracestate_value(std::string(257, 'v')));
    EXPECT_FALSE(is_tracestate_value("trailing "));
    EXPECT_TRUE(is_tracestate_value(" leading"));
    EXPECT_FALSE(is_tracestate_value("a,b"));
    EXPECT_FALSE(is_tracestate_value("caf\xc3\xa9"));
}

TEST(Tracestate, AtMostThirtyTwoMembers) {
    std::string in;
    for (int i = 0; i < 40; ++i) in += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
    auto out = normalize_tracestate(in);
    EXPECT_EQ(std::count(out.begin(), out.end(), ',') + 1, 32);
    EXPECT_EQ(out.substr(0, 5), "k0=v,");
    EXPECT_NE(out.find("k31=v"), std::string::npos);
    EXPECT_EQ(out.find("k32=v"), std::string::npos);
}

TEST(Tracestate, InvalidMembersDoNotCountTowardsTheLimit) {
    std::string in = "BAD=1,";
    for (int i = 0; i < 32; ++i) in += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
    auto out = normalize_tracestate(in);
    EXPECT_EQ(std::count(out.begin(), out.end(), ',') + 1, 32);
}

TEST(Tracestate, LongListsAreCutFromTheRightTo512Characters) {
    std::string in;
    for (int i = 0; i < 5; ++i) in += (i ? "," : "") + std::string("k") + std::to_string(i) + "=" + std::string(150, 'v');
    auto out = normalize_tracestate(in);
    EXPECT_LE(out.size(), kMaxTracestateSize);
    EXPECT_EQ(out.substr(0, 3), "k0=");
    EXPECT_NE(out.find("k2="), std::string::npos);
    EXPECT_EQ(out.find("k3="), std::string::npos);
}

TEST(Hex, RoundTripsAndRefusesUpperCase) {
    std::uint8_t b[2];
    EXPECT_TRUE(from_hex("a0ff", b, 2));
    EXPECT_EQ(b[0], 0xa0);
    EXPECT_EQ(b[1], 0xff);
    EXPECT_FALSE(from_hex("A0FF", b, 2));
    EXPECT_FALSE(from_hex("a0f", b, 2));
}

}  // namespace
}  // namespace herald::trace
