#include "trace/otlp.hpp"

#include <charconv>
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

std::string encode_otlp_json(const Resource& resource, const std::vector<Span>& spans) {
    std::string out;
    out.reserve(256 + spans.size() * 512);
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
    for (std::size_t i = 0; i < spans.size(); ++i) {
        if (i) out.push_back(',');
        span_json(out, spans[i]);
    }
    out += "]}]}]}";
    return out;
}

}  // namespace herald::trace
