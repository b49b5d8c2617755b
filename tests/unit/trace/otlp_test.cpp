#include "trace/otlp.hpp"
#include "protobuf_reader.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace herald::trace {
namespace {

namespace json = boost::json;

Span sample_span() {
    SpanContext c;
    auto tid = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    c = *tid;
    SpanId parent{};
    parent[7] = 0x2a;
    auto s = make_span(c, parent, "POST /v1/topics/{topic}/events", SpanKind::server, 1'714'561'200'000'000'000);
    s.end_unix_ns = 1'714'561'200'000'350'000;
    s.tracestate = "congo=t61rcWkgMzE";
    s.attr("http.response.status_code", 201).attr("http.route", "/v1/topics/{topic}/events").attr("ok", true).attr("ratio", 0.25);
    s.status = StatusCode::error;
    s.status_message = "boom";
    return s;
}

TEST(Otlp, EncodesTheJsonMappingOfExportTraceServiceRequest) {
    Resource r;
    r.service_name = "herald-test";
    r.service_version = "1.2.3";
    auto body = encode_otlp_json(r, {sample_span()});
    auto doc = json::parse(body);
    auto& rs = doc.at("resourceSpans").as_array().at(0).as_object();
    auto& attrs = rs.at("resource").at("attributes").as_array();
    EXPECT_EQ(attrs.at(0).at("key").as_string(), "service.name");
    EXPECT_EQ(attrs.at(0).at("value").at("stringValue").as_string(), "herald-test");
    auto& ss = rs.at("scopeSpans").as_array().at(0).as_object();
    EXPECT_EQ(ss.at("scope").at("name").as_string(), "herald");
    auto& span = ss.at("spans").as_array().at(0).as_object();
    EXPECT_EQ(span.at("traceId").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(span.at("spanId").as_string(), "00f067aa0ba902b7");
    EXPECT_EQ(span.at("parentSpanId").as_string(), "000000000000002a");
    EXPECT_EQ(span.at("traceState").as_string(), "congo=t61rcWkgMzE");
    EXPECT_EQ(span.at("flags").as_int64(), 1);
    EXPECT_EQ(span.at("kind").as_int64(), 2);  // SPAN_KIND_SERVER
    // 64-bit integers are strings in the protobuf JSON mapping.
    EXPECT_EQ(span.at("startTimeUnixNano").as_string(), "1714561200000000000");
    EXPECT_EQ(span.at("endTimeUnixNano").as_string(), "1714561200000350000");
    auto& sa = span.at("attributes").as_array();
    EXPECT_EQ(sa.at(0).at("value").at("intValue").as_string(), "201");
    EXPECT_EQ(sa.at(1).at("value").at("stringValue").as_string(), "/v1/topics/{topic}/events");
    EXPECT_EQ(sa.at(2).at("value").at("boolValue").as_bool(), true);
    EXPECT_DOUBLE_EQ(sa.at(3).at("value").at("doubleValue").as_double(), 0.25);
    EXPECT_EQ(span.at("status").at("code").as_int64(), 2);
    EXPECT_EQ(span.at("status").at("message").as_string(), "boom");
}

TEST(Otlp, ARootSpanHasNoParentAndKindsAreNumbers) {
    auto s = sample_span();
    s.parent_span_id = SpanId{};
    s.kind = SpanKind::producer;
    auto doc = json::parse(encode_otlp_json(Resource{}, {s, s}));
    auto& spans = doc.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array();
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_FALSE(spans.at(0).as_object().contains("parentSpanId"));
    EXPECT_EQ(spans.at(0).at("kind").as_int64(), 4);
}

TEST(Otlp, AnyBytesInNamesStillMakeValidJson) {
    auto s = sample_span();
    s.name = std::string("GET /\xff\xfe\"\n\x01");
    s.attr("url.path", std::string_view("/a\xc3(b"));
    auto body = encode_otlp_json(Resource{}, {s});
    boost::system::error_code ec;
    auto doc = json::parse(body, ec);
    ASSERT_FALSE(ec) << body;
    EXPECT_EQ(body.find('\n'), std::string::npos);
}

TEST(Otlp, NoSpansIsStillAValidRequest) {
    auto doc = json::parse(encode_otlp_json(Resource{}, {}));
    EXPECT_TRUE(doc.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array().empty());
}


// ---- protobuf ----------------------------------------------------------------------------------------------

using namespace protobuf_reader;

std::string hex(std::string_view bytes) {
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back("0123456789abcdef"[c >> 4]);
        out.push_back("0123456789abcdef"[c & 15]);
    }
    return out;
}

TEST(OtlpProtobuf, EncodesExportTraceServiceRequest) {
    Resource r;
    r.service_name = "herald-test";
    r.service_version = "1.2.3";
    std::vector<Field> resource, scope;
    auto spans = spans_of(encode_otlp_protobuf(r, {sample_span()}), &resource, &scope);
    // Resource.attributes (1): KeyValue { key 1, value 2: AnyValue { string_value 1 } }.
    auto attrs = all(resource, 1);
    ASSERT_EQ(attrs.size(), 2u);
    auto kv = fields(attrs[0].bytes);
    EXPECT_EQ(one(kv, 1).bytes, "service.name");
    EXPECT_EQ(one(fields(one(kv, 2).bytes), 1).bytes, "herald-test");
    EXPECT_EQ(one(scope, 1).bytes, "herald");
    EXPECT_EQ(one(scope, 2).bytes, "1.2.3");

    ASSERT_EQ(spans.size(), 1u);
    auto& s = spans[0];
    EXPECT_EQ(hex(one(s, 1).bytes), "4bf92f3577b34da6a3ce929d0e0e4736");  // trace_id, raw bytes
    EXPECT_EQ(hex(one(s, 2).bytes), "00f067aa0ba902b7");                  // span_id
    EXPECT_EQ(one(s, 3).bytes, "congo=t61rcWkgMzE");                       // trace_state
    EXPECT_EQ(hex(one(s, 4).bytes), "000000000000002a");                  // parent_span_id
    EXPECT_EQ(one(s, 5).bytes, "POST /v1/topics/{topic}/events");          // name
    EXPECT_EQ(one(s, 6).value, 2u);                                        // kind: SERVER
    EXPECT_EQ(one(s, 7).wire, 1u);                                         // fixed64
    EXPECT_EQ(one(s, 7).value, 1'714'561'200'000'000'000u);
    EXPECT_EQ(one(s, 8).value, 1'714'561'200'000'350'000u);
    EXPECT_EQ(one(s, 16).wire, 5u);  // flags: fixed32
    EXPECT_EQ(one(s, 16).value, 1u);

    auto sa = all(s, 9);
    ASSERT_EQ(sa.size(), 4u);
    auto value_of = [&](std::size_t i) { return fields(one(fields(sa[i].bytes), 2).bytes); };
    EXPECT_EQ(one(fields(sa[0].bytes), 1).bytes, "http.response.status_code");
    EXPECT_EQ(one(value_of(0), 3).value, 201u);  // int_value
    EXPECT_EQ(one(value_of(1), 1).bytes, "/v1/topics/{topic}/events");
    EXPECT_EQ(one(value_of(2), 2).value, 1u);  // bool_value
    const auto d = one(value_of(3), 4);        // double_value, fixed64
    EXPECT_EQ(d.wire, 1u);
    double ratio;
    std::memcpy(&ratio, &d.value, sizeof ratio);
    EXPECT_DOUBLE_EQ(ratio, 0.25);

    auto status = fields(one(s, 15).bytes);
    EXPECT_EQ(one(status, 2).bytes, "boom");
    EXPECT_EQ(one(status, 3).value, 2u);  // ERROR
}

TEST(OtlpProtobuf, DefaultsAreLeftOutAndNegativeIntegersTakeTenBytes) {
    auto s = sample_span();
    s.parent_span_id = SpanId{};
    s.tracestate.clear();
    s.status = StatusCode::unset;
    s.status_message.clear();
    s.attributes.clear();
    s.attr("delta", -1);
    s.kind = SpanKind::producer;
    auto spans = spans_of(encode_otlp_protobuf(Resource{}, {s, s}));
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_FALSE(has(spans[0], 3));   // trace_state
    EXPECT_FALSE(has(spans[0], 4));   // a root span has no parent
    EXPECT_FALSE(has(spans[0], 15));  // status unset
    EXPECT_EQ(one(spans[0], 6).value, 4u);
    auto v = fields(one(fields(one(spans[1], 9).bytes), 2).bytes);
    EXPECT_EQ(static_cast<std::int64_t>(one(v, 3).value), -1);
}

TEST(OtlpProtobuf, LongAndOddNamesAreCarriedAsIsAndNoSpansIsAValidRequest) {
    auto s = sample_span();
    s.name = std::string("GET /\xff\xfe\"\n\x01") + std::string(300, 'x');  // a length that needs two varint bytes
    auto spans = spans_of(encode_otlp_protobuf(Resource{}, {s}));
    EXPECT_EQ(one(spans[0], 5).bytes, s.name);
    EXPECT_TRUE(spans_of(encode_otlp_protobuf(Resource{}, {})).empty());
}

TEST(OtlpProtobuf, ASpanOfSeveralMebibytesStillGetsItsLength) {
    // Spans are encoded behind a three-byte length; one that needs four is moved up instead.
    auto s = sample_span();
    const std::string big(3u << 20, 'b');
    s.attr("big", std::string_view(big));
    auto spans = spans_of(encode_otlp_protobuf(Resource{}, {s, sample_span()}));
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_EQ(all(spans[0], 9).size(), 5u);
    EXPECT_EQ(one(spans[1], 5).bytes, "POST /v1/topics/{topic}/events");
}

TEST(OtlpProtobuf, SpanByItselfConcatenatesToTheSameRequest) {
    std::string part;
    append_otlp_protobuf_span(part, sample_span());
    append_otlp_protobuf_span(part, sample_span());
    EXPECT_EQ(otlp_protobuf_request(Resource{}, part), encode_otlp_protobuf(Resource{}, {sample_span(), sample_span()}));
    std::string json_part;
    append_otlp_json_span(json_part, sample_span());
    json_part.push_back(',');
    append_otlp_json_span(json_part, sample_span());
    EXPECT_EQ(otlp_json_request(Resource{}, json_part), encode_otlp_json(Resource{}, {sample_span(), sample_span()}));
}

TEST(OtlpProtobuf, IsMuchSmallerThanTheJson) {
    std::vector<Span> batch(100, sample_span());
    EXPECT_LT(encode_otlp_protobuf(Resource{}, batch).size() * 2, encode_otlp_json(Resource{}, batch).size());
}

}  // namespace
}  // namespace herald::trace
