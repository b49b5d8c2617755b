#pragma once
// Decides which spans exist and hands the finished ones to an exporter.
//
// Sampling is parent-based: a request that arrives with a valid traceparent keeps its caller's decision (the
// sampled flag); a new trace is sampled with probability sample_ratio, decided from the trace-id so every
// component that sees the same trace-id and ratio decides alike. Without an exporter (tracing off, the
// default) nothing is recorded and new traces are not marked sampled, but ids are still made and propagated:
// stored events and webhook deliveries carry a traceparent whether or not Herald exports spans.
//
// Threading: a Tracer is immutable after construction and used from every worker; the exporter must be
// thread-safe and must not block (see SpanExporter).

#include <memory>

#include "trace/context.hpp"
#include "trace/span.hpp"

namespace herald::trace {

class SpanExporter {
public:
    virtual ~SpanExporter() = default;
    // Takes one finished span. Called on request paths: must not block and must not throw (a full queue
    // drops the span and counts it).
    virtual void submit(Span span) noexcept = 0;
};

struct TracerOptions {
    double sample_ratio = 1.0;  // of new traces; 0..1
};

class Tracer {
public:
    explicit Tracer(TracerOptions options = {}, SpanExporter* exporter = nullptr) noexcept;

    // True when spans are exported at all.
    bool recording() const noexcept { return exporter_ != nullptr; }
    // The context of a new span: a child of `parent` (same trace-id and flags, new span-id) when it is valid,
    // otherwise the root of a new trace with the sampling decision made here.
    SpanContext start(const SpanContext* parent) const noexcept;
    // Whether a span with this context is to be built and exported: tracing on and the trace sampled.
    bool records(const SpanContext& context) const noexcept { return exporter_ && context.sampled(); }
    // Hands a finished span to the exporter (when records() says so; otherwise drops it).
    void end(Span span) const noexcept;

    // The ratio decision for a trace-id, exposed for tests: the last 8 bytes as a number below ratio × 2^64.
    static bool sample(const TraceId& id, double ratio) noexcept;

private:
    TracerOptions options_;
    SpanExporter* exporter_;
};

}  // namespace herald::trace
