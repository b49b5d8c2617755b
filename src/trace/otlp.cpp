#include "trace/otlp.hpp"

#include <charconv>
#include <cstring>
#include <cstdio>

#include "base/json_text.hpp"

namespace herald::trace {

namespace {

// Appends a decimal integer, quoted when `quoted` (the protobuf JSON mapping writes 64-bit integers as strings).
template <class Int>
void append_int(std::string& out, Int v, bool quoted) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    if (quoted) out.push_back('"');
    out.append(buf, end);
    if (quoted) out.push_back('"');
}

void string_attribute(std::string& out, std::string_view key, std::string_view value) {
    out += "{\"key\":";
    append_json_string(out, key);
    out += ",\"value\":{\"stringValue\":";
    append_json_string(out, value);
    out += "}}";
}

void attribute(std::string& out, const Attribute& a) {
    if (auto* s = std::get_if<std::string>(&a.value)) return string_attribute(out, a.key, *s);
    out += "{\"key\":";
    append_json_string(out, a.key);
    out += ",\"value\":{";
    if (auto* i = std::get_if<std::int64_t>(&a.value)) {
        out += "\"intValue\":";
        append_int(out, *i, true);
    } else if (auto* d = std::get_if<double>(&a.value)) {
        char buf[32];
        // JSON has no NaN or infinity; a span attribute is not worth an invalid body.
        if (*d != *d || *d > 1e308 || *d < -1e308) out += "\"doubleValue\":0";
        else {
            std::snprintf(buf, sizeof buf, "%.17g", *d);
            out += "\"doubleValue\":";
            out += buf;
        }
    } else {
        out += std::get<bool>(a.value) ? "\"boolValue\":true" : "\"boolValue\":false";
    }
    out += "}}";
}

void hex_member(std::string& out, const char* name, const std::uint8_t* bytes, std::size_t n) {
    out += ",\"";
    out += name;
    out += "\":\"";
    const auto at = out.size();
    out.resize(at + 2 * n);
    to_hex(bytes, n, out.data() + at);
    out.push_back('"');
}

void span_json(std::string& out, const Span& s) {
    out += "{\"traceId\":\"";
    const auto at = out.size();
    out.resize(at + 32);
    to_hex(s.trace_id.data(), s.trace_id.size(), out.data() + at);
    out.push_back('"');
    hex_member(out, "spanId", s.span_id.data(), s.span_id.size());
    if (!is_zero(s.parent_span_id)) hex_member(out, "parentSpanId", s.parent_span_id.data(), s.parent_span_id.size());
    if (!s.tracestate.empty()) {
        out += ",\"traceState\":";
        append_json_string(out, s.tracestate);
    }
    out += ",\"flags\":";
    append_int(out, s.flags & kSampled, false);
    out += ",\"name\":";
    append_json_string(out, s.name);
    out += ",\"kind\":";
    append_int(out, static_cast<int>(s.kind), false);
    out += ",\"startTimeUnixNano\":";
    append_int(out, s.start_unix_ns, true);
    out += ",\"endTimeUnixNano\":";
    append_int(out, s.end_unix_ns, true);
    out += ",\"attributes\":[";
    for (std::size_t i = 0; i < s.attributes.size(); ++i) {
        if (i) out.push_back(',');
        attribute(out, s.attributes[i]);
    }
    out += "],\"status\":{\"code\":";
    append_int(out, static_cast<int>(s.status), false);
    if (!s.status_message.empty()) {
        out += ",\"message\":";
        append_json_string(out, s.status_message);
    }
    out += "}}";
}

}  // namespace

void append_otlp_json_span(std::string& out, const Span& span) { span_json(out, span); }

std::string otlp_json_request(const Resource& resource, std::string_view spans_part) {
    std::string out;
    out.reserve(256 + spans_part.size());
    out += "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
    string_attribute(out, "service.name", resource.service_name);
    if (!resource.service_version.empty()) {
        out.push_back(',');
        string_attribute(out, "service.version", resource.service_version);
    }
    if (!resource.service_instance_id.empty()) {
        out.push_back(',');
        string_attribute(out, "service.instance.id", resource.service_instance_id);
    }
    out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"herald\"";
    if (!resource.service_version.empty()) {
        out += ",\"version\":";
        append_json_string(out, resource.service_version);
    }
    out += "},\"spans\":[";
    out += spans_part;
    out += "]}]}]}";
    return out;
}

std::string encode_otlp_json(const Resource& resource, const std::vector<Span>& spans) {
    std::string part;
    part.reserve(spans.size() * 512);
    for (std::size_t i = 0; i < spans.size(); ++i) {
        if (i) part.push_back(',');
        span_json(part, spans[i]);
    }
    return otlp_json_request(resource, part);
}

// ---- protobuf (opentelemetry/proto/collector/trace/v1/trace_service.proto and the messages it uses) ----------

namespace {

namespace pb {

enum Wire : std::uint8_t { varint = 0, fixed64 = 1, len = 2, fixed32 = 5 };

void put_varint(std::string& out, std::uint64_t v) {
    char buf[10];
    std::size_t n = 0;
    while (v >= 0x80) {
        buf[n++] = static_cast<char>(static_cast<std::uint8_t>(v) | 0x80);
        v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out.append(buf, n);
}

std::size_t varint_size(std::uint64_t v) {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

void put_tag(std::string& out, unsigned field, Wire wire) { put_varint(out, std::uint64_t{field} << 3 | wire); }

void put_fixed(std::string& out, std::uint64_t v, std::size_t bytes) {
    char buf[8];
    for (std::size_t i = 0; i < bytes; ++i) buf[i] = static_cast<char>(v >> (8 * i));  // little-endian
    out.append(buf, bytes);
}

void put_bytes(std::string& out, unsigned field, const void* data, std::size_t n) {
    put_tag(out, field, len);
    put_varint(out, n);
    out.append(static_cast<const char*>(data), n);
}

void put_string(std::string& out, unsigned field, std::string_view s) { put_bytes(out, field, s.data(), s.size()); }

// KeyValue { string key = 1; AnyValue value = 2; }, AnyValue { oneof string_value = 1, bool_value = 2,
// int_value = 3, double_value = 4 }. Small enough to size without a scratch buffer.
void put_key_value(std::string& out, unsigned field, std::string_view key, const AttributeValue& value) {
    std::size_t value_size = 0;
    if (auto* str = std::get_if<std::string>(&value)) value_size = 1 + varint_size(str->size()) + str->size();
    else if (auto* i = std::get_if<std::int64_t>(&value)) value_size = 1 + varint_size(static_cast<std::uint64_t>(*i));
    else if (std::holds_alternative<double>(value)) value_size = 1 + 8;
    else value_size = 1 + 1;
    const std::size_t kv_size = 1 + varint_size(key.size()) + key.size() + 1 + varint_size(value_size) + value_size;
    put_tag(out, field, len);
    put_varint(out, kv_size);
    put_string(out, 1, key);
    put_tag(out, 2, len);
    put_varint(out, value_size);
    if (auto* str = std::get_if<std::string>(&value)) {
        put_string(out, 1, *str);
    } else if (auto* i = std::get_if<std::int64_t>(&value)) {
        put_tag(out, 3, varint);
        put_varint(out, static_cast<std::uint64_t>(*i));  // int64: a negative value takes ten bytes
    } else if (auto* d = std::get_if<double>(&value)) {
        std::uint64_t bits;
        static_assert(sizeof bits == sizeof *d);
        std::memcpy(&bits, d, sizeof bits);
        put_tag(out, 4, fixed64);
        put_fixed(out, bits, 8);
    } else {
        put_tag(out, 2, varint);
        put_varint(out, std::get<bool>(value) ? 1 : 0);
    }
}

// Span (trace.proto): trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6,
// start_time_unix_nano 7 (fixed64), end_time_unix_nano 8 (fixed64), attributes 9, status 15, flags 16 (fixed32).
void put_span(std::string& out, const Span& s) {
    put_bytes(out, 1, s.trace_id.data(), s.trace_id.size());
    put_bytes(out, 2, s.span_id.data(), s.span_id.size());
    if (!s.tracestate.empty()) put_string(out, 3, s.tracestate);
    if (!is_zero(s.parent_span_id)) put_bytes(out, 4, s.parent_span_id.data(), s.parent_span_id.size());
    put_string(out, 5, s.name);
    put_tag(out, 6, varint);
    put_varint(out, static_cast<std::uint64_t>(s.kind));
    put_tag(out, 7, fixed64);
    put_fixed(out, static_cast<std::uint64_t>(s.start_unix_ns), 8);
    put_tag(out, 8, fixed64);
    put_fixed(out, static_cast<std::uint64_t>(s.end_unix_ns), 8);
    for (const auto& a : s.attributes) put_key_value(out, 9, a.key, a.value);
    if (s.status != StatusCode::unset || !s.status_message.empty()) {
        // Status { string message = 2; StatusCode code = 3; }
        std::size_t size = 0;
        if (!s.status_message.empty()) size += 1 + varint_size(s.status_message.size()) + s.status_message.size();
        if (s.status != StatusCode::unset) size += 2;
        put_tag(out, 15, len);
        put_varint(out, size);
        if (!s.status_message.empty()) put_string(out, 2, s.status_message);
        if (s.status != StatusCode::unset) {
            put_tag(out, 3, varint);
            put_varint(out, static_cast<std::uint64_t>(s.status));
        }
    }
    put_tag(out, 16, fixed32);
    put_fixed(out, s.flags & kSampled, 4);
}

}  // namespace pb

}  // namespace

void append_otlp_protobuf_span(std::string& out, const Span& span) {
    // The span's length comes first on the wire: encode it behind a reserved maximal length, then move it up
    // by what the real length's varint does not need. Spans are far below 2^21 bytes, so three bytes hold it.
    constexpr std::size_t kLengthRoom = 3;
    pb::put_tag(out, 2, pb::len);  // ScopeSpans.spans = 2
    const std::size_t length_at = out.size();
    out.append(kLengthRoom, '\0');
    pb::put_span(out, span);
    const std::size_t size = out.size() - length_at - kLengthRoom;
    std::string length;
    pb::put_varint(length, size);
    if (length.size() > kLengthRoom) {  // a span of 2 MiB or more: rare enough to pay for a copy
        std::string body = out.substr(length_at + kLengthRoom);
        out.resize(length_at);
        out += length;
        out += body;
        return;
    }
    out.replace(length_at, kLengthRoom, length);
}

std::string otlp_protobuf_request(const Resource& resource, std::string_view spans_part) {
    // Resource { repeated KeyValue attributes = 1; }
    std::string resource_part;
    pb::put_key_value(resource_part, 1, "service.name", AttributeValue(resource.service_name));
    if (!resource.service_version.empty())
        pb::put_key_value(resource_part, 1, "service.version", AttributeValue(resource.service_version));
    if (!resource.service_instance_id.empty())
        pb::put_key_value(resource_part, 1, "service.instance.id", AttributeValue(resource.service_instance_id));
    // InstrumentationScope { string name = 1; string version = 2; }
    std::string scope_part;
    pb::put_string(scope_part, 1, "herald");
    if (!resource.service_version.empty()) pb::put_string(scope_part, 2, resource.service_version);
    // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
    std::string scope_spans_head;
    pb::put_bytes(scope_spans_head, 1, scope_part.data(), scope_part.size());
    const std::size_t scope_spans_size = scope_spans_head.size() + spans_part.size();
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
    std::string resource_spans_head;
    pb::put_bytes(resource_spans_head, 1, resource_part.data(), resource_part.size());
    pb::put_tag(resource_spans_head, 2, pb::len);
    pb::put_varint(resource_spans_head, scope_spans_size);
    const std::size_t resource_spans_size = resource_spans_head.size() + scope_spans_size;
    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    std::string out;
    out.reserve(16 + resource_spans_size);
    pb::put_tag(out, 1, pb::len);
    pb::put_varint(out, resource_spans_size);
    out += resource_spans_head;
    out += scope_spans_head;
    out += spans_part;
    return out;
}

std::string encode_otlp_protobuf(const Resource& resource, const std::vector<Span>& spans) {
    std::string part;
    part.reserve(spans.size() * 192);
    for (const auto& s : spans) append_otlp_protobuf_span(part, s);
    return otlp_protobuf_request(resource, part);
}

}  // namespace herald::trace
