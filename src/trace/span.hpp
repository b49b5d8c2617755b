#pragma once
// A finished span as Herald records it: the few fields an OTLP exporter sends. A Span is a plain value, built on
// the thread that did the work and moved to the exporter's queue; nothing in it points back into the request.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "trace/context.hpp"

namespace herald::trace {

// The OTLP SpanKind numbers (opentelemetry/proto/trace/v1/trace.proto).
enum class SpanKind : std::uint8_t { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };
// The OTLP Status.StatusCode numbers.
enum class StatusCode : std::uint8_t { unset = 0, ok = 1, error = 2 };

using AttributeValue = std::variant<std::string, std::int64_t, double, bool>;

struct Attribute {
    std::string_view key;  // always a string literal (static storage): attribute names are fixed in code
    AttributeValue value;
};

struct Span {
    TraceId trace_id{};
    SpanId span_id{};
    SpanId parent_span_id{};  // all zero: a root span
    std::uint8_t flags = 0;
    std::string tracestate;
    std::string name;
    SpanKind kind = SpanKind::internal;
    std::int64_t start_unix_ns = 0;
    std::int64_t end_unix_ns = 0;
    std::vector<Attribute> attributes;
    StatusCode status = StatusCode::unset;
    std::string status_message;

    Span& attr(std::string_view key, AttributeValue value) {
        attributes.push_back(Attribute{key, std::move(value)});
        return *this;
    }
    // Without these, a bool would promote to int, and integers of other widths would be ambiguous.
    Span& attr(std::string_view key, bool value) { return attr(key, AttributeValue(value)); }
    Span& attr(std::string_view key, double value) { return attr(key, AttributeValue(value)); }
    Span& attr(std::string_view key, int value) { return attr(key, AttributeValue(std::int64_t{value})); }
    Span& attr(std::string_view key, unsigned value) { return attr(key, AttributeValue(std::int64_t{value})); }
    Span& attr(std::string_view key, std::uint64_t value) {
        return attr(key, AttributeValue(static_cast<std::int64_t>(value)));
    }
    Span& attr(std::string_view key, const char* value) { return attr(key, AttributeValue(std::string(value))); }
    Span& attr(std::string_view key, std::string_view value) { return attr(key, AttributeValue(std::string(value))); }
};

// A span for `context` (its ids and flags), child of `parent` (zero: root).
Span make_span(const SpanContext& context, const SpanId& parent, std::string name, SpanKind kind,
               std::int64_t start_unix_ns);

// Now, in nanoseconds since the Unix epoch (what OTLP timestamps are).
std::int64_t unix_nanos() noexcept;

}  // namespace herald::trace
