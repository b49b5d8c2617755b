#include "trace/otlp.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace herald::trace
