#pragma once
// The OTLP/HTTP encodings of spans, protobuf (below) and JSON. The JSON encoding (opentelemetry-proto, ExportTraceServiceRequest in the protobuf JSON
// mapping): lowerCamelCase member names; trace and span ids as lower-case hex strings (OTLP's exception to the
// base64 rule for bytes); 64-bit integers (timestamps, intValue) as decimal strings; enums (kind, status code)
// as numbers.
//
//   {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"herald"}}]},
//     "scopeSpans":[{"scope":{"name":"herald","version":"0.1.0"},
//       "spans":[{"traceId":"5b8e…","spanId":"b7ad…","parentSpanId":"…","traceState":"…","flags":1,
//                 "name":"POST /v1/topics/{topic}/events","kind":2,
//                 "startTimeUnixNano":"1714561200000000000","endTimeUnixNano":"1714561200000350000",
//                 "attributes":[{"key":"http.response.status_code","value":{"intValue":"201"}}],
//                 "status":{"code":0}}]}]}]}

#include <string>
#include <string_view>
#include <vector>

#include "trace/span.hpp"

namespace herald::trace {

struct Resource {
    std::string service_name = "herald";
    std::string service_version;      // empty: not sent
    std::string service_instance_id;  // empty: not sent
};

// The two OTLP/HTTP encodings (OTEL_EXPORTER_OTLP_PROTOCOL's names: http/protobuf, http/json).
enum class OtlpProtocol { protobuf, json };

// One request body for `spans` (all of one resource and one instrumentation scope, "herald").
std::string encode_otlp_json(const Resource& resource, const std::vector<Span>& spans);

// The same request in the protobuf binary encoding (Content-Type application/x-protobuf), the OTLP/HTTP
// default: ids as raw bytes, integers as varints and fixed64, no escaping, so about 40% of the JSON's size and
// a fraction of its encoding work. Fields at their proto3 default (empty trace_state, a root's parent id,
// status unset) are left out, as protobuf encoders do.
std::string encode_otlp_protobuf(const Resource& resource, const std::vector<Span>& spans);

// The same two encodings a span at a time, for an exporter that encodes each span where it ends (on the
// request's thread) and sends many later:
//   protobuf: append_otlp_protobuf_span appends one ScopeSpans.spans entry; any concatenation of entries is
//             the spans part of otlp_protobuf_request.
//   JSON:     append_otlp_json_span appends one span object; otlp_json_request wants them joined with commas.
void append_otlp_protobuf_span(std::string& out, const Span& span);
void append_otlp_json_span(std::string& out, const Span& span);
std::string otlp_protobuf_request(const Resource& resource, std::string_view spans_part);
std::string otlp_json_request(const Resource& resource, std::string_view spans_part);

}  // namespace herald::trace
