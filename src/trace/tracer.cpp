#include "trace/tracer.hpp"

#include <cmath>

#include "trace/ids.hpp"

namespace herald::trace {

Tracer::Tracer(TracerOptions options, SpanExporter* exporter) noexcept : options_(options), exporter_(exporter) {
    if (!(options_.sample_ratio >= 0)) options_.sample_ratio = 0;  // NaN too
    if (options_.sample_ratio > 1) options_.sample_ratio = 1;
}

bool Tracer::sample(const TraceId& id, double ratio) noexcept {
    if (ratio >= 1) return true;
    if (ratio <= 0) return false;
    std::uint64_t low = 0;
    for (std::size_t i = 8; i < 16; ++i) low = low << 8 | id[i];
    // ratio × 2^64 as a bound; ldexp keeps the computation exact for the double's precision.
    const double bound = std::ldexp(ratio, 64);
    return static_cast<double>(low) < bound;
}

SpanContext Tracer::start(const SpanContext* parent) const noexcept {
    SpanContext c;
    c.span_id = new_span_id();
    if (parent && parent->valid()) {
        c.trace_id = parent->trace_id;
        c.flags = parent->flags & kSampled;
        return c;
    }
    c.trace_id = new_trace_id();
    c.flags = exporter_ && sample(c.trace_id, options_.sample_ratio) ? kSampled : 0;
    return c;
}

void Tracer::end(Span span) const noexcept {
    if (!exporter_ || !(span.flags & kSampled)) return;
    exporter_->submit(std::move(span));
}

}  // namespace herald::trace
