#pragma once
// The publishing pipeline shared by every way in (HTTP, WebSocket): decoded events → checks → engine → the
// per-event answers. One pipeline, so the rules (topic names, Idempotency-Key bounds, dedup, all-or-nothing
// batches, durability before the answer) are the same whatever the transport.
//
// Threading: publish() is a coroutine on the caller's worker; the engine's completion is posted back to it.

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/cloud_event.hpp"
#include "engine/engine.hpp"
#include "publish/contracts.hpp"
#include "publish/topic_metrics.hpp"
#include "trace/tracer.hpp"

namespace herald::publish {

struct Stats {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> events{0};      // appended
    std::atomic<std::uint64_t> duplicates{0};  // answered from the dedup window
    std::atomic<std::uint64_t> rejected{0};    // requests refused (bad input, storage)
    std::atomic<std::uint64_t> contract_rejected{0};  // requests refused by a contract (schema, naming, topic)
    TopicMetrics topics;                              // the same figures per topic, and publish durations
};

// The trace a publish belongs to: the server span of the request that carried it, and the caller's
// tracestate (normalised), which travels with the events.
struct PublishTrace {
    trace::SpanContext parent;
    std::string_view tracestate;
};

class Pipeline {
public:
    // `contracts` may be null (no naming rules, no schemas); `tracer` may be null (no producer spans; events
    // still get a traceparent).
    Pipeline(engine::Engine& engine, Stats& stats, const Contracts* contracts = nullptr,
             const trace::Tracer* tracer = nullptr)
        : engine_(engine), stats_(stats), contracts_(contracts), tracer_(tracer) {}

    // Appends `events` (already decoded and valid) to `topic`: all of them or none.
    //
    // Distributed tracing (CloudEvents distributed-tracing extension): one producer span covers the publish, a
    // child of `context->parent` (or the root of a new trace when `context` is null, as for WebSocket publishes);
    // every event without a `traceparent` extension gets the producer span's traceparent, and the caller's
    // tracestate with it. An event that already carries a traceparent keeps it (and its tracestate): it was
    // created in a trace of its own. `context` must outlive the call.
    //
    // `received`: when the request reached Herald (the publish-duration histogram measures from it to the
    // answer being ready); the default is the moment publish() is called.
    boost::asio::awaitable<Result<engine::PublishResult>> publish(
        std::string topic, std::vector<core::CloudEvent> events, std::string idempotency_key,
        const PublishTrace* context = nullptr, std::chrono::steady_clock::time_point received = {});
    // Counts a request refused before it reached publish() (bad input).
    void count_rejected() noexcept { stats_.rejected.fetch_add(1, std::memory_order_relaxed); }

    // {"offset","id","cursor","duplicate"?} for one outcome; a JSON array of them for a result.
    static std::string outcome_json(const engine::PublishOutcome& outcome, std::uint64_t epoch);
    static void append_outcome_json(std::string& out, const engine::PublishOutcome& outcome, std::uint64_t epoch);
    static std::string results_json(const engine::PublishResult& result);

private:
    engine::Engine& engine_;
    Stats& stats_;
    const Contracts* contracts_;
    const trace::Tracer* tracer_;
};

}  // namespace herald::publish
