#include "trace/span.hpp"

#include <chrono>

namespace herald::trace {

Span make_span(const SpanContext& context, const SpanId& parent, std::string name, SpanKind kind,
               std::int64_t start_unix_ns) {
    Span s;
    s.trace_id = context.trace_id;
    s.span_id = context.span_id;
    s.parent_span_id = parent;
    s.flags = context.flags;
    s.name = std::move(name);
    s.kind = kind;
    s.start_unix_ns = start_unix_ns;
    s.end_unix_ns = start_unix_ns;
    s.attributes.reserve(8);  // what Herald's spans carry: one allocation instead of a growth sequence
    return s;
}

std::int64_t unix_nanos() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace herald::trace
